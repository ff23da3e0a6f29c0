// Package temporalconn dials Temporal for the worker, the starter and the
// API alike: the frontend's address and namespace, and, for a production
// cluster, TLS (a private CA, an mTLS client certificate, a server name)
// and a Temporal Cloud API key, all from config.Config.
//
// The certificate files are read and checked when the options are built,
// so that a wrong path or a mismatched key fails at start with the file's
// name rather than at the first call. Errors name the address, the
// namespace and how the connection was secured, never the API key.
package temporalconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
)

// Options is base (the caller's Logger, MetricsHandler, ...) with the
// configured address, namespace, TLS and credentials set. It reads the
// certificate files now and fails with an error naming the file and the
// setting when one is missing or wrong.
func Options(cfg config.Config, base client.Options) (client.Options, error) {
	opts := base
	opts.HostPort = cfg.TemporalAddress
	opts.Namespace = cfg.Namespace
	on, err := tlsWanted(cfg)
	if err != nil {
		return client.Options{}, err
	}
	if on {
		tc, err := tlsConfig(cfg)
		if err != nil {
			return client.Options{}, err
		}
		opts.ConnectionOptions.TLS = tc
	} else if cfg.TemporalAPIKey != "" {
		// Said explicitly (TEMPORAL_TLS=false): the SDK would turn TLS on
		// for an API key otherwise. Only for a local server.
		opts.ConnectionOptions.TLSDisabled = true
	}
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	return opts, nil
}

// Dial connects to the configured frontend (client.DialContext): it fails
// when the frontend cannot be reached or refuses the connection.
func Dial(ctx context.Context, cfg config.Config, base client.Options) (client.Client, error) {
	opts, err := Options(cfg, base)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal %s: %w", Describe(cfg), err)
	}
	return c, nil
}

// NewLazy is a client that connects on its first call
// (client.NewLazyClient), so that its program starts while Temporal is
// down. A bad TLS setting still fails now.
func NewLazy(cfg config.Config, base client.Options) (client.Client, error) {
	opts, err := Options(cfg, base)
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", cfg.TemporalAddress, err)
	}
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", Describe(cfg), err)
	}
	return c, nil
}

// Describe says where the configuration connects and how, for errors and
// logs: "at host:port (namespace ns, TLS, client certificate, API key)".
// It never includes the key itself.
func Describe(cfg config.Config) string {
	parts := []string{"namespace " + cfg.Namespace}
	on, err := tlsWanted(cfg)
	switch {
	case err != nil:
		parts = append(parts, "TLS setting invalid")
	case on && cfg.TemporalTLSCA != "":
		parts = append(parts, "TLS with CA "+cfg.TemporalTLSCA)
	case on:
		parts = append(parts, "TLS with the system's CAs")
	default:
		parts = append(parts, "no TLS")
	}
	if cfg.TemporalTLSCert != "" {
		parts = append(parts, "client certificate "+cfg.TemporalTLSCert)
	}
	if cfg.TemporalAPIKey != "" {
		parts = append(parts, "API key")
	}
	return fmt.Sprintf("at %s (%s)", cfg.TemporalAddress, strings.Join(parts, ", "))
}

// tlsWanted is whether to use TLS: TemporalTLS when it says, else whether
// a CA, a client certificate or an API key (Temporal Cloud needs TLS) is
// set. Turning TLS off while certificates are set is a contradiction.
func tlsWanted(cfg config.Config) (bool, error) {
	implied := cfg.TemporalTLSCA != "" || cfg.TemporalTLSCert != "" || cfg.TemporalTLSKey != "" || cfg.TemporalTLSServerName != ""
	if strings.TrimSpace(cfg.TemporalTLS) == "" {
		return implied || cfg.TemporalAPIKey != "", nil
	}
	on, err := strconv.ParseBool(strings.TrimSpace(cfg.TemporalTLS))
	if err != nil {
		return false, fmt.Errorf("TLS switch %q (TEMPORAL_TLS, --tls): want true or false", cfg.TemporalTLS)
	}
	if !on && implied {
		return false, errors.New("TLS is off (TEMPORAL_TLS, --tls) but a CA, client certificate or server name is set: turn it on or unset them")
	}
	return on, nil
}

// tlsConfig builds the TLS settings: the CA pool (nil = the system's),
// the client certificate and the server name; TLS 1.2 at least.
func tlsConfig(cfg config.Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TemporalTLSServerName}
	if cfg.TemporalTLSCA != "" {
		pool, err := loadCAs(cfg.TemporalTLSCA)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	cert, ok, err := loadClientCert(cfg.TemporalTLSCert, cfg.TemporalTLSKey)
	if err != nil {
		return nil, err
	}
	if ok {
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// loadCAs reads a PEM file of CA certificates.
func loadCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("TLS CA (TEMPORAL_TLS_CA, --tls-ca): %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS CA (TEMPORAL_TLS_CA, --tls-ca) %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// loadClientCert reads the mTLS client certificate and its key; ok is
// false when neither is set. One without the other is an error naming the
// missing one.
func loadClientCert(certPath, keyPath string) (cert tls.Certificate, ok bool, err error) {
	switch {
	case certPath == "" && keyPath == "":
		return tls.Certificate{}, false, nil
	case keyPath == "":
		return tls.Certificate{}, false, fmt.Errorf("TLS client certificate %s is set but its key is not (TEMPORAL_TLS_KEY, --tls-key)", certPath)
	case certPath == "":
		return tls.Certificate{}, false, fmt.Errorf("TLS client key %s is set but its certificate is not (TEMPORAL_TLS_CERT, --tls-cert)", keyPath)
	}
	for _, f := range []struct{ path, setting string }{{certPath, "TEMPORAL_TLS_CERT, --tls-cert"}, {keyPath, "TEMPORAL_TLS_KEY, --tls-key"}} {
		if _, err := os.Stat(f.path); err != nil {
			return tls.Certificate{}, false, fmt.Errorf("TLS client certificate (%s): %w", f.setting, err)
		}
	}
	cert, err = tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("TLS client certificate %s with key %s: %w", certPath, keyPath, err)
	}
	return cert, true, nil
}
