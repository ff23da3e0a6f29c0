// Command finsight-api serves FinSight's HTTP API (POST /predict, GET /healthz,
// GET /readyz, and POST /hooks/gcs when FINSIGHT_HOOK_TOKEN is set on a gs://
// store).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/logging"
	"github.com/finsight/finsight/model"
)

func main() {
	cfg := config.FromEnv(os.Getenv)
	fs := flag.NewFlagSet("finsight-api", flag.ExitOnError)
	cfg.Flags(fs)
	_ = fs.Parse(os.Args[1:])
	logger, err := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "finsight-api:", err)
		os.Exit(2)
	}
	slog.SetDefault(logger) // the request lines, and the Temporal client's (temporalLogger)
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "finsight-api:", err)
		os.Exit(1)
	}
}

func run(cfg config.Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return err
	}
	device, err := model.ParseDevice(cfg.Device)
	if err != nil {
		return err
	}
	srv := api.New(store, device)
	defer srv.Close()
	closeHook, err := enableHook(srv, cfg)
	if err != nil {
		return err
	}
	defer closeHook()
	hs := &http.Server{Addr: cfg.APIAddr, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	slog.Info("api listening", "addr", "http://"+cfg.APIAddr, "store", store.URI(""))
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", cfg.APIAddr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// enableHook turns on POST /hooks/gcs when a hook token is configured and
// the store is a bucket. The Temporal client connects lazily, so the API
// starts (and serves /predict) while Temporal is down; the hook answers 503
// until it is up, and so does /readyz, which then checks Temporal too. It
// returns what closes the client.
func enableHook(srv *api.Server, cfg config.Config) (func(), error) {
	nothing := func() {}
	if cfg.HookToken == "" {
		return nothing, nil
	}
	bucket, prefix, ok := cfg.GCSLocation()
	if !ok {
		slog.Warn("gcs hook off: the store is not a gs:// bucket", "store", cfg.Store)
		return nothing, nil
	}
	c, err := client.NewLazyClient(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.Namespace, Logger: temporalLogger()})
	if err != nil {
		return nil, fmt.Errorf("gcs hook: temporal client for %s: %w", cfg.TemporalAddress, err)
	}
	err = srv.EnableGCSHook(api.HookConfig{Token: cfg.HookToken, Bucket: bucket, Prefix: prefix, TaskQueue: cfg.TaskQueue, Starter: c})
	if err != nil {
		c.Close()
		return nil, err
	}
	srv.AddReadyCheck("temporal", func(ctx context.Context) error {
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return fmt.Errorf("temporal at %s: %w", cfg.TemporalAddress, err)
		}
		return nil
	})
	slog.Info("gcs hook on", "path", "/hooks/gcs", "bucket", bucket, "prefix", prefix, "temporal", cfg.TemporalAddress, "task_queue", cfg.TaskQueue)
	return c.Close, nil
}

// temporalLogger passes the Temporal client's lines to slog's default
// logger (the configured level and format).
func temporalLogger() log.Logger {
	return logging.Temporal(slog.Default())
}
