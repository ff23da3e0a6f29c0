// Command finsight-api serves FinSight's HTTP API (POST /predict, GET /healthz).
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

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/model"
)

func main() {
	cfg := config.FromEnv(os.Getenv)
	fs := flag.NewFlagSet("finsight-api", flag.ExitOnError)
	cfg.Flags(fs)
	_ = fs.Parse(os.Args[1:])
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
