package blob

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"
)

// Option configures Open. WithEndpoint and WithCredentialsFile apply to
// gs:// URLs only; WithCallTimeout to every store.
type Option func(*openOptions)

// emulatorHostEnv is the storage library's own switch to an emulator.
const emulatorHostEnv = "STORAGE_EMULATOR_HOST"

type openOptions struct {
	endpoint        string
	credentialsFile string
	callTimeout     time.Duration
}

// WithEndpoint points the GCS client at an emulator or other endpoint. It
// accepts "http://localhost:4443", "https://gcs.example.com", a bare
// "localhost:4443" (plain http: a local emulator), each with or without a
// trailing "/storage/v1/" (see normalizeEndpoint). It disables
// authentication and uses the JSON API for reads (emulators do not serve
// XML reads).
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

// WithCallTimeout sets the deadline of each store call (see DeadlineStore);
// 0 or less means DefaultCallTimeout.
func WithCallTimeout(d time.Duration) Option {
	return func(o *openOptions) { o.callTimeout = d }
}

// Open returns the store named by rawURL: "file:///abs/dir", a plain path
// ("./store", a local directory) or "gs://bucket/optional/prefix", wrapped
// in a DeadlineStore: no call waits on the store longer than the call
// timeout (DefaultCallTimeout unless WithCallTimeout), and one that would
// fails with ErrUnavailable. The returned store implements io.Closer; Close
// releases a GCS client created here.
func Open(ctx context.Context, rawURL string, opts ...Option) (Store, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	s, err := open(ctx, rawURL, o)
	if err != nil {
		return nil, err
	}
	return WithDeadlines(s, o.callTimeout), nil
}

// open returns the store named by rawURL, without deadlines.
func open(ctx context.Context, rawURL string, o openOptions) (Store, error) {
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
		return openGCS(ctx, u.Host, strings.Trim(u.Path, "/"), o)
	default:
		return nil, fmt.Errorf("open store %q: unsupported scheme %q", rawURL, u.Scheme)
	}
}

func openGCS(ctx context.Context, bucket, prefix string, o openOptions) (*GCS, error) {
	var copts []option.ClientOption
	switch {
	case o.endpoint != "":
		endpoint, err := normalizeEndpoint(o.endpoint)
		if err != nil {
			return nil, fmt.Errorf("open store gs://%s/%s: %w", bucket, prefix, err)
		}
		copts = append(copts, option.WithEndpoint(endpoint), option.WithoutAuthentication(), storage.WithJSONReads())
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
