package temporalconn

import (
	"crypto/tls"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
)

// env is a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Without TLS settings the options are the plain dev-server ones, with
// the caller's base options kept.
func TestOptionsPlain(t *testing.T) {
	cfg := config.FromEnv(env(map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "FINSIGHT_NAMESPACE": "prod"}))
	base := client.Options{Identity: "me"}
	opts, err := Options(cfg, base)
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "temporal:7233" || opts.Namespace != "prod" || opts.Identity != "me" {
		t.Errorf("options %+v", opts)
	}
	if opts.ConnectionOptions.TLS != nil || opts.Credentials != nil {
		t.Errorf("TLS %v, credentials %v: want neither", opts.ConnectionOptions.TLS, opts.Credentials)
	}
}

// The environment's CA, client certificate, key and server name end up in
// the TLS config, read at Options time.
func TestOptionsMTLSFromEnv(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "ca")
	certPEM, keyPEM := ca.leaf(t, "worker", false)
	cfg := config.FromEnv(env(map[string]string{
		"TEMPORAL_TLS_CA":          writeFile(t, dir, "ca.pem", ca.pem),
		"TEMPORAL_TLS_CERT":        writeFile(t, dir, "client.pem", certPEM),
		"TEMPORAL_TLS_KEY":         writeFile(t, dir, "client.key", keyPEM),
		"TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
	}))
	opts, err := Options(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tc := opts.ConnectionOptions.TLS
	if tc == nil {
		t.Fatal("TLS is off")
	}
	if tc.ServerName != "temporal.internal" || tc.MinVersion != tls.VersionTLS12 || len(tc.Certificates) != 1 || tc.RootCAs == nil {
		t.Errorf("TLS config: server name %q, min version %x, %d certificates, roots %v", tc.ServerName, tc.MinVersion, len(tc.Certificates), tc.RootCAs)
	}
}

// An API key turns TLS on with the system's CAs and never shows in
// Describe.
func TestOptionsAPIKey(t *testing.T) {
	const key = "secret-api-key-123"
	cfg := config.FromEnv(env(map[string]string{"TEMPORAL_ADDRESS": "us-east-1.aws.api.temporal.io:7233", "TEMPORAL_API_KEY": key}))
	opts, err := Options(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.ConnectionOptions.TLS == nil || opts.ConnectionOptions.TLS.RootCAs != nil {
		t.Errorf("TLS %+v: want on, with the system's roots", opts.ConnectionOptions.TLS)
	}
	if opts.Credentials == nil {
		t.Error("no credentials")
	}
	if d := Describe(cfg); strings.Contains(d, key) || !strings.Contains(d, "API key") {
		t.Errorf("Describe = %q", d)
	}
	cfg.TemporalTLS = "false"
	opts, err = Options(cfg, client.Options{})
	if err != nil || opts.ConnectionOptions.TLS != nil || !opts.ConnectionOptions.TLSDisabled {
		t.Errorf("TEMPORAL_TLS=false with an API key: TLS %v, disabled %v, err %v", opts.ConnectionOptions.TLS, opts.ConnectionOptions.TLSDisabled, err)
	}
}

// Bad settings fail at Options time with an error naming the file or the
// missing setting.
func TestOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "ca")
	certPEM, keyPEM := ca.leaf(t, "worker", false)
	_, otherKey := ca.leaf(t, "other", false)
	cert := writeFile(t, dir, "client.pem", certPEM)
	key := writeFile(t, dir, "client.key", keyPEM)
	missing := filepath.Join(dir, "nope.pem")
	for _, tc := range []struct {
		name string
		cfg  config.Config
		want []string
	}{
		{"cert without key", config.Config{TemporalTLSCert: cert}, []string{cert, "TEMPORAL_TLS_KEY"}},
		{"key without cert", config.Config{TemporalTLSKey: key}, []string{key, "TEMPORAL_TLS_CERT"}},
		{"missing CA file", config.Config{TemporalTLSCA: missing}, []string{missing, "TEMPORAL_TLS_CA"}},
		{"CA not PEM", config.Config{TemporalTLSCA: writeFile(t, dir, "junk.pem", []byte("junk"))}, []string{"junk.pem", "no PEM certificate"}},
		{"missing key file", config.Config{TemporalTLSCert: cert, TemporalTLSKey: missing}, []string{missing, "TEMPORAL_TLS_KEY"}},
		{"key of another cert", config.Config{TemporalTLSCert: cert, TemporalTLSKey: writeFile(t, dir, "other.key", otherKey)}, []string{cert, "other.key"}},
		{"bad switch", config.Config{TemporalTLS: "maybe"}, []string{"maybe", "TEMPORAL_TLS"}},
		{"off with a CA", config.Config{TemporalTLS: "false", TemporalTLSCA: cert}, []string{"TLS is off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.TemporalAddress = "127.0.0.1:1"
			_, err := Options(tc.cfg, client.Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			// Dial and NewLazy fail the same way, before any connection.
			if _, err := NewLazy(tc.cfg, client.Options{}); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
				t.Errorf("NewLazy error %v: want one naming the address", err)
			}
		})
	}
}

// The connection flags override the environment; --tls stands alone and
// -help hides the API key.
func TestConnectionFlags(t *testing.T) {
	cfg := config.FromEnv(env(map[string]string{"TEMPORAL_API_KEY": "secret-from-env"}))
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.FlagsFor(fs, config.TemporalFlags...)
	if d := fs.Lookup("api-key").DefValue; d != "(set)" {
		t.Errorf("--api-key default shown as %q, want (set)", d)
	}
	if err := fs.Parse([]string{"--tls", "--tls-ca", "/ca.pem", "--tls-server-name", "t.example", "--api-key", "k2"}); err != nil {
		t.Fatal(err)
	}
	if cfg.TemporalTLS != "true" || cfg.TemporalTLSCA != "/ca.pem" || cfg.TemporalTLSServerName != "t.example" || cfg.TemporalAPIKey != "k2" {
		t.Errorf("config after flags: %+v", cfg)
	}
}
