// Package config reads FinSight's settings once, in main, from the
// environment with command-line flags on top, and hands them down.
package config

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/blob"
)

// Task queues: workers poll DefaultTaskQueue (FINSIGHT_TASK_QUEUE overrides
// it); CUDA workers also serve GPUTaskQueue, where runs asking for CUDA
// send their training activities.
const (
	DefaultTaskQueue = "finsight"
	GPUTaskQueue     = "finsight-gpu"
)

// TrainQueue is the task queue of the CPU training steps (train, trials,
// and the evaluate and compare steps that load a model) of the workflows
// on queue base: base + "-train" (DefaultTaskQueue: "finsight-train").
// There a worker runs at most --train-slots of them at a time, so the
// steps that take every core never pile up, while the light steps keep
// base's concurrency. The worker and the workflows both derive it here.
func TrainQueue(base string) string { return base + "-train" }

// Config is every setting a FinSight program may need.
type Config struct {
	TemporalAddress string // host:port of the Temporal frontend
	Namespace       string

	// Connection to a production Temporal (see internal/temporalconn).
	// TLS is on when TemporalTLS says so, or when a CA, a client
	// certificate or an API key is set; the API key is a secret.
	TemporalTLS           string // "" (auto), true or false
	TemporalTLSCA         string // PEM file of the CAs that sign the frontend's certificate ("" = the system's)
	TemporalTLSCert       string // PEM file of the client certificate (mTLS; with TemporalTLSKey)
	TemporalTLSKey        string // PEM file of the client certificate's private key
	TemporalTLSServerName string // name checked against the frontend's certificate ("" = the address's host)
	TemporalAPIKey        string // Temporal Cloud API key, sent as Authorization: Bearer <key>

	TaskQueue       string
	Store           string // file:///abs/dir, a plain path, or gs://bucket/prefix
	StoreTimeout    string // deadline of each store call (a Go duration, e.g. 30s); see blob.DeadlineStore
	Device          string // auto, cpu or cuda
	APIAddr         string // listen address of the HTTP API
	UIURL           string // base URL of the Temporal Web UI, for links
	YahooURL        string // base URL of the Yahoo Finance chart API (a local server in tests)
	GCSCredentials  string // service-account key file for gs:// stores ("" = Application Default Credentials)
	GCSEndpoint     string // GCS endpoint of an emulator ("" = Google's, or STORAGE_EMULATOR_HOST)
	HookToken       string // secret of the API's POST /hooks/gcs ("" = the hook is off)
	APITokens       string // comma-separated bearer tokens of the API's mutating routes ("" = they answer 403); see APITokenList
	ManifestRefresh string // how often the API checks a served ticker's registry manifest for moves (a Go duration)
	LogLevel        string // debug, info, warn or error (see internal/logging)
	LogFormat       string // text or json
	MetricsAddr     string // listen address of the worker's Prometheus /metrics ("" = off)

	// Notifications (a worker's; see internal/notify). Secrets: the SMTP
	// URL's password and the webhook secret (and a webhook URL's path).
	SMTPURL       string // smtp://user:pass@host:port (STARTTLS when offered) or smtps://... ("" = no e-mail)
	MailFrom      string // sender of notification e-mail ("" = FinSight <finsight@localhost>)
	NotifyEmail   string // comma-separated recipients
	WebhookURL    string // JSON POST endpoint ("" = no webhook)
	WebhookSecret string // HMAC-SHA256 key of the webhook signature ("" = unsigned)

	// The API's HTTP server (see APIServerLimits) and CORS.
	APIReadHeaderTimeout string // reading a request's line and headers (a Go duration)
	APIReadTimeout       string // reading a whole request, body included
	APIWriteTimeout      string // from the end of a request's headers to the end of its answer
	APIIdleTimeout       string // a keep-alive connection waiting for its next request
	APIMaxHeaderBytes    string // bytes of a request's line and headers (past them: 431)
	CORSOrigins          string // comma-separated origins whose pages may call the API ("" = CORS off); see CORSOriginList
}

// FromEnv reads FINSIGHT_* variables (and TEMPORAL_ADDRESS), with defaults
// that work on a laptop.
func FromEnv(getenv func(string) string) Config {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	return Config{
		TemporalAddress: get("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		Namespace:       get("FINSIGHT_NAMESPACE", "default"),

		// The Temporal CLI's *_PATH names work too.
		TemporalTLS:           get("TEMPORAL_TLS", ""),
		TemporalTLSCA:         get("TEMPORAL_TLS_CA", get("TEMPORAL_TLS_CA_PATH", "")),
		TemporalTLSCert:       get("TEMPORAL_TLS_CERT", get("TEMPORAL_TLS_CERT_PATH", "")),
		TemporalTLSKey:        get("TEMPORAL_TLS_KEY", get("TEMPORAL_TLS_KEY_PATH", "")),
		TemporalTLSServerName: get("TEMPORAL_TLS_SERVER_NAME", ""),
		TemporalAPIKey:        get("TEMPORAL_API_KEY", ""),

		TaskQueue:       get("FINSIGHT_TASK_QUEUE", DefaultTaskQueue),
		Store:           get("FINSIGHT_STORE", ".state/store"),
		StoreTimeout:    get("FINSIGHT_STORE_TIMEOUT", blob.DefaultCallTimeout.String()),
		Device:          get("FINSIGHT_DEVICE", "auto"),
		APIAddr:         get("FINSIGHT_API_ADDR", "127.0.0.1:8080"),
		UIURL:           get("FINSIGHT_UI_URL", "http://127.0.0.1:8233"),
		YahooURL:        get("FINSIGHT_YAHOO_URL", "https://query1.finance.yahoo.com"),
		GCSCredentials:  get("FINSIGHT_GCS_CREDENTIALS", ""),
		GCSEndpoint:     get("FINSIGHT_GCS_ENDPOINT", ""),
		HookToken:       get("FINSIGHT_HOOK_TOKEN", ""),
		APITokens:       get("FINSIGHT_API_TOKENS", ""),
		ManifestRefresh: get("FINSIGHT_MANIFEST_REFRESH", "1s"),
		LogLevel:        get("FINSIGHT_LOG_LEVEL", "info"),
		LogFormat:       get("FINSIGHT_LOG_FORMAT", "text"),
		MetricsAddr:     get("FINSIGHT_METRICS_ADDR", DefaultMetricsAddr),
		SMTPURL:         get("FINSIGHT_SMTP_URL", ""),
		MailFrom:        get("FINSIGHT_MAIL_FROM", ""),
		NotifyEmail:     get("FINSIGHT_NOTIFY_EMAIL", ""),
		WebhookURL:      get("FINSIGHT_WEBHOOK_URL", ""),
		WebhookSecret:   get("FINSIGHT_WEBHOOK_SECRET", ""),

		APIReadHeaderTimeout: get("FINSIGHT_API_READ_HEADER_TIMEOUT", DefaultAPIReadHeaderTimeout),
		APIReadTimeout:       get("FINSIGHT_API_READ_TIMEOUT", DefaultAPIReadTimeout),
		APIWriteTimeout:      get("FINSIGHT_API_WRITE_TIMEOUT", DefaultAPIWriteTimeout),
		APIIdleTimeout:       get("FINSIGHT_API_IDLE_TIMEOUT", DefaultAPIIdleTimeout),
		APIMaxHeaderBytes:    get("FINSIGHT_API_MAX_HEADER_BYTES", DefaultAPIMaxHeaderBytes),
		CORSOrigins:          get("FINSIGHT_CORS_ORIGINS", ""),
	}
}

// Flags registers flags that override the environment's values.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.TemporalAddress, "temporal", c.TemporalAddress, "Temporal frontend host:port (env TEMPORAL_ADDRESS)")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "Temporal namespace (env FINSIGHT_NAMESPACE)")
	c.temporalConnFlags(fs)
	fs.StringVar(&c.TaskQueue, "task-queue", c.TaskQueue, "Temporal task queue (env FINSIGHT_TASK_QUEUE)")
	fs.StringVar(&c.Store, "store", c.Store, "blob store: a folder, file:///dir or gs://bucket/prefix (env FINSIGHT_STORE)")
	fs.StringVar(&c.StoreTimeout, "store-timeout", c.StoreTimeout, "deadline of each store call; a store that does not answer within it is reported unavailable (env FINSIGHT_STORE_TIMEOUT)")
	fs.StringVar(&c.Device, "device", c.Device, "training device: auto, cpu or cuda (env FINSIGHT_DEVICE)")
	fs.StringVar(&c.APIAddr, "addr", c.APIAddr, "HTTP API listen address (env FINSIGHT_API_ADDR)")
	fs.StringVar(&c.UIURL, "ui", c.UIURL, "Temporal Web UI base URL, for links (env FINSIGHT_UI_URL)")
	fs.StringVar(&c.YahooURL, "yahoo-url", c.YahooURL, "Yahoo Finance chart API base URL (env FINSIGHT_YAHOO_URL)")
	fs.StringVar(&c.GCSCredentials, "gcs-credentials", c.GCSCredentials, "service-account key file for gs:// stores; default ADC (env FINSIGHT_GCS_CREDENTIALS)")
	fs.StringVar(&c.GCSEndpoint, "gcs-endpoint", c.GCSEndpoint, "GCS emulator endpoint (env FINSIGHT_GCS_ENDPOINT)")
	fs.StringVar(&c.HookToken, "hook-token", c.HookToken, "secret (?token=) of the API's POST /hooks/gcs; empty turns the hook off (env FINSIGHT_HOOK_TOKEN)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error (env FINSIGHT_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json (env FINSIGHT_LOG_FORMAT)")
}

// temporalConnFlags registers how to reach a production Temporal: TLS,
// mTLS and the API key (whose -help default hides it).
func (c *Config) temporalConnFlags(fs *flag.FlagSet) {
	fs.Var(&switchFlag{&c.TemporalTLS}, "tls", "TLS to Temporal: true or false; default on when a CA, client certificate or API key is set (env TEMPORAL_TLS)")
	fs.StringVar(&c.TemporalTLSCA, "tls-ca", c.TemporalTLSCA, "PEM file of the CAs of Temporal's server certificate; default the system's (env TEMPORAL_TLS_CA)")
	fs.StringVar(&c.TemporalTLSCert, "tls-cert", c.TemporalTLSCert, "PEM file of the client certificate for mTLS, with --tls-key (env TEMPORAL_TLS_CERT)")
	fs.StringVar(&c.TemporalTLSKey, "tls-key", c.TemporalTLSKey, "PEM file of the client certificate's private key (env TEMPORAL_TLS_KEY)")
	fs.StringVar(&c.TemporalTLSServerName, "tls-server-name", c.TemporalTLSServerName, "server name checked against Temporal's certificate; default the address's host (env TEMPORAL_TLS_SERVER_NAME)")
	fs.Var(&secretFlag{&c.TemporalAPIKey, func(string) string { return "(set)" }}, "api-key", "Temporal Cloud API `key`, sent as Authorization: Bearer; turns TLS on (env TEMPORAL_API_KEY)")
}

// switchFlag is a string setting that is also a boolean flag: a bare
// --tls sets it to "true".
type switchFlag struct{ p *string }

func (f *switchFlag) Set(s string) error { *f.p = s; return nil }

func (f *switchFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

// IsBoolFlag lets the flag stand alone on the command line.
func (f *switchFlag) IsBoolFlag() bool { return true }

// NotifyFlags registers the notification settings (a worker's only: the
// worker sends them). The environment is the better place for the secrets:
// a command line is visible to other users of the machine.
func (c *Config) NotifyFlags(fs *flag.FlagSet) {
	fs.Var(&secretFlag{&c.SMTPURL, hidePassword}, "smtp-url", "SMTP server for notification e-mail: smtp://user:pass@host:port (STARTTLS when offered) or smtps:// (implicit TLS) (env FINSIGHT_SMTP_URL)")
	fs.StringVar(&c.MailFrom, "mail-from", c.MailFrom, "sender of notification e-mail; default FinSight <finsight@localhost> (env FINSIGHT_MAIL_FROM)")
	fs.StringVar(&c.NotifyEmail, "notify-email", c.NotifyEmail, "comma-separated recipients of notification e-mail (env FINSIGHT_NOTIFY_EMAIL)")
	fs.Var(&secretFlag{&c.WebhookURL, hidePath}, "webhook-url", "URL notifications are POSTed to as JSON (Slack-compatible text) (env FINSIGHT_WEBHOOK_URL)")
	fs.Var(&secretFlag{&c.WebhookSecret, func(string) string { return "(set)" }}, "webhook-secret", "HMAC-SHA256 key of the webhook's X-FinSight-Signature header (env FINSIGHT_WEBHOOK_SECRET)")
}

// secretFlag is a flag whose default, taken from the environment and shown
// by -help, hides its secret part (show).
type secretFlag struct {
	p    *string
	show func(string) string
}

func (f *secretFlag) Set(s string) error { *f.p = s; return nil }

func (f *secretFlag) String() string {
	if f == nil || f.p == nil || *f.p == "" {
		return ""
	}
	return f.show(*f.p)
}

// hidePassword is a URL without its password.
func hidePassword(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(set)"
	}
	return u.Redacted()
}

// hidePath is a URL's scheme and host: a webhook's path is its token.
func hidePath(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(set)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// APIFlags registers the API's own settings (the API binary's only): the
// bearer tokens of its mutating routes. Their -help default hides them;
// the environment is the better place for them (a command line is visible
// to other users of the machine).
func (c *Config) APIFlags(fs *flag.FlagSet) {
	fs.Var(&secretFlag{&c.APITokens, countTokens}, "api-tokens", "comma-separated bearer tokens (Authorization: Bearer <token>) of the API's "+
		"POST /train, /retrain, /models/{ticker}/promote|rollback and DELETE /workflows/{id}; empty turns them off (env FINSIGHT_API_TOKENS)")
	fs.StringVar(&c.ManifestRefresh, "manifest-refresh", c.ManifestRefresh, "how often /predict checks a ticker's registry manifest "+
		"(one metadata read per ticker per interval; a promotion is served within about this long; 0 checks on every request) (env FINSIGHT_MANIFEST_REFRESH)")
	c.apiServerFlags(fs)
}

// ManifestRefreshEvery parses ManifestRefresh.
func (c Config) ManifestRefreshEvery() (time.Duration, error) {
	d, err := time.ParseDuration(c.ManifestRefresh)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("manifest refresh %q: want a duration such as 1s (0 checks on every request)", c.ManifestRefresh)
	}
	return d, nil
}

// APITokenList is APITokens split at commas, each trimmed, empty ones
// dropped.
func (c Config) APITokenList() []string {
	var out []string
	for _, t := range strings.Split(c.APITokens, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// countTokens shows a token list as how many it holds.
func countTokens(s string) string {
	return fmt.Sprintf("(%d set)", len(Config{APITokens: s}.APITokenList()))
}

// DefaultMetricsAddr is where a worker serves Prometheus /metrics unless
// FINSIGHT_METRICS_ADDR or --metrics-addr says otherwise.
const DefaultMetricsAddr = "127.0.0.1:9090"

// LogFlags are the logging settings (internal/logging), for FlagsFor.
var LogFlags = []string{"log-level", "log-format"}

// MetricsFlag registers --metrics-addr (a worker's only: the API serves
// /metrics on its own address).
func (c *Config) MetricsFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "listen address of Prometheus /metrics; empty or off turns it off (env FINSIGHT_METRICS_ADDR)")
}

// Groups of settings by what uses them, for FlagsFor: dialing Temporal
// (the task queue is separate: only commands that start workflows need
// it) and opening the store (OpenStore).
var (
	TemporalFlags = []string{"temporal", "namespace", "tls", "tls-ca", "tls-cert", "tls-key", "tls-server-name", "api-key"}
	StoreFlags    = []string{"store", "store-timeout", "gcs-credentials", "gcs-endpoint"}
)

// FlagsFor registers the flags of the named settings only, named as Flags
// names them ("temporal", "store", "ui", ...), so that a command's help
// lists just the settings it uses. The values still come from c (the
// environment read once); a flag overrides its field. A name Flags does
// not define panics: it is a mistake in the program, not in its input.
func (c *Config) FlagsFor(fs *flag.FlagSet, names ...string) {
	all := flag.NewFlagSet("config", flag.ContinueOnError)
	c.Flags(all)
	for _, name := range names {
		f := all.Lookup(name)
		if f == nil {
			panic("config: no setting has the flag --" + name)
		}
		fs.Var(f.Value, f.Name, f.Usage)
	}
}

// GCSLocation is the bucket and prefix (without leading or trailing slash)
// of a gs:// store; ok is false for any other store. It reads the URL as
// blob.Open does.
func (c Config) GCSLocation() (bucket, prefix string, ok bool) {
	if !strings.Contains(c.Store, "://") {
		return "", "", false
	}
	u, err := url.Parse(c.Store)
	if err != nil || u.Scheme != "gs" || u.Host == "" {
		return "", "", false
	}
	return u.Host, strings.Trim(u.Path, "/"), true
}

// OpenStore opens the configured blob store, each call bounded by
// StoreTimeout (blob.ErrUnavailable when the store does not answer).
func (c Config) OpenStore(ctx context.Context) (blob.Store, error) {
	timeout, err := c.storeTimeout()
	if err != nil {
		return nil, err
	}
	opts := []blob.Option{blob.WithCallTimeout(timeout)}
	if c.GCSCredentials != "" {
		opts = append(opts, blob.WithCredentialsFile(c.GCSCredentials))
	}
	if c.GCSEndpoint != "" {
		opts = append(opts, blob.WithEndpoint(c.GCSEndpoint))
	}
	s, err := blob.Open(ctx, c.Store, opts...)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", c.Store, err)
	}
	return s, nil
}

// storeTimeout parses StoreTimeout ("" is blob.DefaultCallTimeout).
func (c Config) storeTimeout() (time.Duration, error) {
	if c.StoreTimeout == "" {
		return blob.DefaultCallTimeout, nil
	}
	d, err := time.ParseDuration(c.StoreTimeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("store timeout %q (FINSIGHT_STORE_TIMEOUT, --store-timeout): want a positive duration such as 30s", c.StoreTimeout)
	}
	return d, nil
}

// WorkflowURL links a workflow in the Web UI.
func (c Config) WorkflowURL(workflowID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(c.UIURL, "/"), c.Namespace, workflowID)
}

// Defaults of the API's HTTP server settings (the same as api.Default*:
// the API package is not imported here).
const (
	DefaultAPIReadHeaderTimeout = "5s"
	DefaultAPIReadTimeout       = "60s"  // a 32 MiB upload at about 5 Mbit/s
	DefaultAPIWriteTimeout      = "120s" // a big upload's answer
	DefaultAPIIdleTimeout       = "120s"
	DefaultAPIMaxHeaderBytes    = "65536"
)

// apiServerFlags registers the API's HTTP server limits and CORS origins.
func (c *Config) apiServerFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.APIReadHeaderTimeout, "read-header-timeout", c.APIReadHeaderTimeout,
		"longest a client may take to send a request's line and headers; a slower one is disconnected (env FINSIGHT_API_READ_HEADER_TIMEOUT)")
	fs.StringVar(&c.APIReadTimeout, "read-timeout", c.APIReadTimeout,
		"longest a client may take to send a whole request, body included (env FINSIGHT_API_READ_TIMEOUT)")
	fs.StringVar(&c.APIWriteTimeout, "write-timeout", c.APIWriteTimeout,
		"longest from the end of a request's headers to the end of its answer (env FINSIGHT_API_WRITE_TIMEOUT)")
	fs.StringVar(&c.APIIdleTimeout, "idle-timeout", c.APIIdleTimeout,
		"longest a keep-alive connection waits for its next request (env FINSIGHT_API_IDLE_TIMEOUT)")
	fs.StringVar(&c.APIMaxHeaderBytes, "max-header-bytes", c.APIMaxHeaderBytes,
		"most bytes of a request's line and headers; more is answered 431 (env FINSIGHT_API_MAX_HEADER_BYTES)")
	fs.StringVar(&c.CORSOrigins, "cors-origins", c.CORSOrigins,
		"comma-separated origins (https://host[:port], or *) whose pages may call the API from a browser; empty turns CORS off (env FINSIGHT_CORS_ORIGINS)")
}

// APIServerLimits are the API's HTTP server settings, parsed.
type APIServerLimits struct {
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
}

// APIServerLimits parses the API's HTTP server settings; each must be
// positive ("" is its default).
func (c Config) APIServerLimits() (APIServerLimits, error) {
	var l APIServerLimits
	for _, d := range []struct {
		name, env, value, def string
		dst                   *time.Duration
	}{
		{"read header timeout", "FINSIGHT_API_READ_HEADER_TIMEOUT", c.APIReadHeaderTimeout, DefaultAPIReadHeaderTimeout, &l.ReadHeaderTimeout},
		{"read timeout", "FINSIGHT_API_READ_TIMEOUT", c.APIReadTimeout, DefaultAPIReadTimeout, &l.ReadTimeout},
		{"write timeout", "FINSIGHT_API_WRITE_TIMEOUT", c.APIWriteTimeout, DefaultAPIWriteTimeout, &l.WriteTimeout},
		{"idle timeout", "FINSIGHT_API_IDLE_TIMEOUT", c.APIIdleTimeout, DefaultAPIIdleTimeout, &l.IdleTimeout},
	} {
		v := d.value
		if v == "" {
			v = d.def
		}
		t, err := time.ParseDuration(v)
		if err != nil || t <= 0 {
			return l, fmt.Errorf("api %s %q (%s): want a positive duration such as %s", d.name, d.value, d.env, d.def)
		}
		*d.dst = t
	}
	v := c.APIMaxHeaderBytes
	if v == "" {
		v = DefaultAPIMaxHeaderBytes
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return l, fmt.Errorf("api max header bytes %q (FINSIGHT_API_MAX_HEADER_BYTES): want a positive number of bytes such as %s", c.APIMaxHeaderBytes, DefaultAPIMaxHeaderBytes)
	}
	l.MaxHeaderBytes = n
	return l, nil
}

// CORSOriginList is CORSOrigins split at commas, each trimmed, empty
// ones dropped.
func (c Config) CORSOriginList() []string {
	var out []string
	for _, o := range strings.Split(c.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
