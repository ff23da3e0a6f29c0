package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/logging"
	"github.com/finsight/finsight/internal/telemetry"
)

// setupLogging makes slog's default logger the configured one (level and
// format), on stderr; the Temporal SDK logs through it (newLogger).
func setupLogging(cfg config.Config) error {
	l, err := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	slog.SetDefault(l)
	return nil
}

// metricsFlag registers --metrics-addr. FINSIGHT_METRICS_ADDR set but
// empty turns /metrics off (config.FromEnv reads empty as unset).
func metricsFlag(cfg *config.Config, fs *flag.FlagSet) {
	if v, ok := os.LookupEnv("FINSIGHT_METRICS_ADDR"); ok && strings.TrimSpace(v) == "" {
		cfg.MetricsAddr = ""
	}
	cfg.MetricsFlag(fs)
}

// metricsAddr is where /metrics listens; "" or "off" turns it off.
func metricsAddr(cfg config.Config) string {
	if a := strings.TrimSpace(cfg.MetricsAddr); a != "off" {
		return a
	}
	return ""
}

// observability is the worker's metrics: FinSight's own, and the Temporal
// SDK's (client.Options.MetricsHandler), on one registry served at
// http://<addr>/metrics.
type observability struct {
	metrics  *telemetry.Worker
	handler  client.MetricsHandler
	shutdown func()
}

// startMetrics builds the registry and, unless addr is "", serves it. A
// port already taken is logged, not fatal: the worker runs without /metrics.
func startMetrics(addr string) (*observability, error) {
	reg := telemetry.NewRegistry()
	m := telemetry.NewWorker(reg)
	h, stopSDK, err := telemetry.TemporalMetrics(reg, func(err error) { slog.Warn("temporal metrics", "err", err) })
	if err != nil {
		return nil, err
	}
	o := &observability{metrics: m, handler: h, shutdown: func() { _ = stopSDK(context.Background()) }}
	if addr == "" {
		slog.Info("metrics off")
		return o, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		slog.Error("metrics off: cannot listen", "addr", addr, "err", err)
		return o, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", telemetry.Handler(reg))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics server", "err", err)
		}
	}()
	slog.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	o.shutdown = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = stopSDK(ctx)
	}
	return o, nil
}
