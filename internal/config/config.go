// Package config reads FinSight's settings once, in main, from the
// environment with command-line flags on top, and hands them down.
package config

import (
	"context"
	"flag"
	"fmt"
	"net/url"
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

// Config is every setting a FinSight program may need.
type Config struct {
	TemporalAddress string // host:port of the Temporal frontend
	Namespace       string
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
	}
}

// Flags registers flags that override the environment's values.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.TemporalAddress, "temporal", c.TemporalAddress, "Temporal frontend host:port (env TEMPORAL_ADDRESS)")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "Temporal namespace (env FINSIGHT_NAMESPACE)")
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
