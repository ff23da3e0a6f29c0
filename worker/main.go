// Command worker runs FinSight's pipelines: it registers the workflows and
// activities on a Temporal task queue and serves them until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/workflows"
)

func main() {
	cfg := config.FromEnv(os.Getenv)
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	cfg.Flags(fs)
	_ = fs.Parse(os.Args[1:])
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(cfg config.Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := blob.Open(ctx, cfg.Store)
	if err != nil {
		return fmt.Errorf("open store %s: %w", cfg.Store, err)
	}
	device, err := model.ParseDevice(cfg.Device)
	if err != nil {
		return err
	}
	c, err := client.Dial(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.Namespace, Logger: newLogger()})
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	w := worker.New(c, cfg.TaskQueue, worker.Options{})
	workflows.Register(w, activities.New(store, device))
	slog.Info("worker ready", "task_queue", cfg.TaskQueue, "store", store.URI(""), "device", fmt.Sprint(device))
	return w.Run(interruptCh(ctx))
}

func interruptCh(ctx context.Context) <-chan interface{} {
	ch := make(chan interface{})
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch
}
