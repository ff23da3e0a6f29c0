// Package config reads FinSight's settings once, in main, from the
// environment with command-line flags on top, and hands them down.
package config

import (
	"flag"
	"fmt"
	"strings"

	"github.com/finsight/finsight/internal/pipeline"
)

// Config is every setting a FinSight program may need.
type Config struct {
	TemporalAddress string // host:port of the Temporal frontend
	Namespace       string
	TaskQueue       string
	Store           string // file:///abs/dir, a plain path, or gs://bucket/prefix
	Device          string // auto, cpu or cuda
	APIAddr         string // listen address of the HTTP API
	UIURL           string // base URL of the Temporal Web UI, for links
	YahooURL        string // base URL of the Yahoo Finance chart API (a local server in tests)
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
		TaskQueue:       get("FINSIGHT_TASK_QUEUE", pipeline.DefaultTaskQueue),
		Store:           get("FINSIGHT_STORE", ".state/store"),
		Device:          get("FINSIGHT_DEVICE", "auto"),
		APIAddr:         get("FINSIGHT_API_ADDR", "127.0.0.1:8080"),
		UIURL:           get("FINSIGHT_UI_URL", "http://127.0.0.1:8233"),
		YahooURL:        get("FINSIGHT_YAHOO_URL", "https://query1.finance.yahoo.com"),
	}
}

// Flags registers flags that override the environment's values.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.TemporalAddress, "temporal", c.TemporalAddress, "Temporal frontend host:port (env TEMPORAL_ADDRESS)")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "Temporal namespace (env FINSIGHT_NAMESPACE)")
	fs.StringVar(&c.TaskQueue, "task-queue", c.TaskQueue, "Temporal task queue (env FINSIGHT_TASK_QUEUE)")
	fs.StringVar(&c.Store, "store", c.Store, "blob store: a folder, file:///dir or gs://bucket/prefix (env FINSIGHT_STORE)")
	fs.StringVar(&c.Device, "device", c.Device, "training device: auto, cpu or cuda (env FINSIGHT_DEVICE)")
	fs.StringVar(&c.APIAddr, "addr", c.APIAddr, "HTTP API listen address (env FINSIGHT_API_ADDR)")
	fs.StringVar(&c.UIURL, "ui", c.UIURL, "Temporal Web UI base URL, for links (env FINSIGHT_UI_URL)")
	fs.StringVar(&c.YahooURL, "yahoo-url", c.YahooURL, "Yahoo Finance chart API base URL (env FINSIGHT_YAHOO_URL)")
}

// WorkflowURL links a workflow in the Web UI.
func (c Config) WorkflowURL(workflowID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(c.UIURL, "/"), c.Namespace, workflowID)
}
