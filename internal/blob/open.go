package blob

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"
)

// Option configures Open for gs:// URLs; it is ignored for local stores.
type Option func(*openOptions)

// emulatorHostEnv is the storage library's own switch to an emulator.
const emulatorHostEnv = "STORAGE_EMULATOR_HOST"

type openOptions struct {
	endpoint        string
	credentialsFile string
}

// WithEndpoint points the GCS client at an emulator or other endpoint, e.g.
// "http://localhost:4443/storage/v1/". It disables authentication and uses
// the JSON API for reads (emulators do not serve XML reads).
// Without it, STORAGE_EMULATOR_HOST=host:port does the same: the storage
// library sends every request there unauthenticated, and Open switches
// reads to the JSON API.
func WithEndpoint(endpoint string) Option {
	return func(o *openOptions) { o.endpoint = endpoint }
}

// WithCredentialsFile authenticates with a service-account key file instead
// of Application Default Credentials.
func WithCredentialsFile(path string) Option {
	return func(o *openOptions) { o.credentialsFile = path }
}

// Open returns the store named by rawURL: "file:///abs/dir", a plain path
// ("./store", a local directory) or "gs://bucket/optional/prefix".
// The returned store implements io.Closer; Close releases a GCS client
// created here.
func Open(ctx context.Context, rawURL string, opts ...Option) (Store, error) {
	if !strings.Contains(rawURL, "://") {
		return NewLocal(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("open store %q: file URL must be file:///abs/dir", rawURL)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("open store %q: empty path", rawURL)
		}
		return NewLocal(u.Path)
	case "gs":
		if u.Host == "" {
			return nil, fmt.Errorf("open store %q: missing bucket", rawURL)
		}
		return openGCS(ctx, u.Host, strings.Trim(u.Path, "/"), opts)
	default:
		return nil, fmt.Errorf("open store %q: unsupported scheme %q", rawURL, u.Scheme)
	}
}

func openGCS(ctx context.Context, bucket, prefix string, opts []Option) (*GCS, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	var copts []option.ClientOption
	switch {
	case o.endpoint != "":
		copts = append(copts, option.WithEndpoint(o.endpoint), option.WithoutAuthentication(), storage.WithJSONReads())
	case os.Getenv(emulatorHostEnv) != "":
		copts = append(copts, storage.WithJSONReads())
	}
	if o.credentialsFile != "" {
		copts = append(copts, option.WithAuthCredentialsFile(option.ServiceAccount, o.credentialsFile))
	}
	client, err := storage.NewClient(ctx, copts...)
	if err != nil {
		return nil, fmt.Errorf("open store gs://%s/%s: %w", bucket, prefix, err)
	}
	g := NewGCS(client, bucket, prefix)
	g.ownsClient = true
	return g, nil
}
