// Command finsight-api serves FinSight's HTTP API (POST /predict, GET /healthz,
// GET /readyz, the registry and runs, the workflow routes — POST /train and
// /retrain, GET and DELETE /workflows/{id}, POST /models/{ticker}/promote and
// /rollback, the mutating ones behind FINSIGHT_API_TOKENS — and POST
// /hooks/gcs when FINSIGHT_HOOK_TOKEN is set on a gs:// store).
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
	"github.com/finsight/finsight/internal/temporalconn"
	"github.com/finsight/finsight/model"
)

func main() {
	cfg := config.FromEnv(os.Getenv)
	fs := flag.NewFlagSet("finsight-api", flag.ExitOnError)
	cfg.Flags(fs)
	cfg.APIFlags(fs)
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
	refresh, err := cfg.ManifestRefreshEvery()
	if err != nil {
		return err
	}
	limits, err := cfg.APIServerLimits()
	if err != nil {
		return err
	}
	srv := api.New(store, device, api.WithManifestRefresh(refresh), api.WithWebUI(cfg.WorkflowURL), api.WithCORS(cfg.CORSOriginList()))
	defer srv.Close()
	// One Temporal client for the hook and the workflow routes. It connects
	// lazily, so the API starts (and serves /predict) while Temporal is
	// down; those routes answer 503 until it is up.
	c, err := temporalconn.NewLazy(cfg, client.Options{Logger: temporalLogger()})
	if err != nil {
		return err
	}
	defer c.Close()
	hookOn, err := enableHook(srv, cfg, c)
	if err != nil {
		return err
	}
	tokens := cfg.APITokenList()
	err = srv.EnableWorkflows(api.WorkflowsConfig{Client: c, TaskQueue: cfg.TaskQueue, Namespace: cfg.Namespace, WebUI: cfg.WorkflowURL, Tokens: tokens})
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		slog.Info("api: mutating routes off (POST /train, /retrain, /models/{ticker}/promote|rollback, DELETE /workflows/{id} answer 403): set FINSIGHT_API_TOKENS to turn them on")
	} else {
		slog.Info("api: mutating routes on", "tokens", len(tokens), "temporal", cfg.TemporalAddress, "task_queue", cfg.TaskQueue)
	}
	if hookOn || len(tokens) > 0 {
		// Temporal is then part of what the API does: /readyz checks it.
		srv.AddReadyCheck("temporal", func(ctx context.Context) error {
			if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
				return fmt.Errorf("temporal at %s: %w", cfg.TemporalAddress, err)
			}
			return nil
		})
	}
	// Slow or oversized clients are cut off (slowloris): see api.HTTPLimits.
	hs := api.NewHTTPServer(cfg.APIAddr, srv.Handler(), api.HTTPLimits{
		ReadHeaderTimeout: limits.ReadHeaderTimeout, ReadTimeout: limits.ReadTimeout,
		WriteTimeout: limits.WriteTimeout, IdleTimeout: limits.IdleTimeout, MaxHeaderBytes: limits.MaxHeaderBytes,
	})
	if origins := cfg.CORSOriginList(); len(origins) > 0 {
		slog.Info("api: CORS on", "origins", origins)
	}
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

// enableHook turns on POST /hooks/gcs, starting scans with c, when a hook
// token is configured and the store is a bucket, and says whether it did.
func enableHook(srv *api.Server, cfg config.Config, c client.Client) (bool, error) {
	if cfg.HookToken == "" {
		return false, nil
	}
	bucket, prefix, ok := cfg.GCSLocation()
	if !ok {
		slog.Warn("gcs hook off: the store is not a gs:// bucket", "store", cfg.Store)
		return false, nil
	}
	err := srv.EnableGCSHook(api.HookConfig{Token: cfg.HookToken, Bucket: bucket, Prefix: prefix, TaskQueue: cfg.TaskQueue, Starter: c})
	if err != nil {
		return false, err
	}
	slog.Info("gcs hook on", "path", "/hooks/gcs", "bucket", bucket, "prefix", prefix, "temporal", cfg.TemporalAddress, "task_queue", cfg.TaskQueue)
	return true, nil
}

// temporalLogger passes the Temporal client's lines to slog's default
// logger (the configured level and format).
func temporalLogger() log.Logger {
	return logging.Temporal(slog.Default())
}
