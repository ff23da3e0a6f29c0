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
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
	_ "time/tzdata" // exchange calendars for downloads, even without system zoneinfo

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/telemetry"
	"github.com/finsight/finsight/internal/temporalconn"
	"github.com/finsight/finsight/internal/yahoo"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/workflows"
)

func main() {
	cfg := config.FromEnv(os.Getenv)
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	cfg.Flags(fs)
	metricsFlag(&cfg, fs)
	cfg.NotifyFlags(fs)
	stopTimeout := defaultStopTimeout
	if v := os.Getenv("FINSIGHT_WORKER_STOP_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker: FINSIGHT_WORKER_STOP_TIMEOUT:", err)
			os.Exit(2)
		}
		stopTimeout = d
	}
	fs.DurationVar(&stopTimeout, "stop-timeout", stopTimeout,
		"on SIGTERM, how long running activities get to checkpoint and stop before they are cancelled (env FINSIGHT_WORKER_STOP_TIMEOUT)")
	capa, err := capacityFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	capa.flags(fs)
	crashAt, err := crashAtFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	crashFlag(&crashAt, fs)
	_ = fs.Parse(os.Args[1:])
	if err := capa.check(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	if err := setupLogging(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	if err := run(cfg, stopTimeout, capa, crashAt); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// defaultStopTimeout fits inside the 30 s a container orchestrator
// (Kubernetes, docker stop) gives a process between SIGTERM and SIGKILL.
const defaultStopTimeout = 25 * time.Second

func run(cfg config.Config, stopTimeout time.Duration, capa capacity, crashAt activities.CrashPoint) error {
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
	obs, err := startMetrics(metricsAddr(cfg))
	if err != nil {
		return err
	}
	defer obs.shutdown()
	c, err := temporalconn.Dial(ctx, cfg, client.Options{Logger: newLogger(), MetricsHandler: obs.handler})
	if err != nil {
		return err
	}
	defer c.Close()
	acts := activities.New(store, device)
	acts.CodeVersion = codeVersion()
	acts.WorkflowURL = cfg.WorkflowURL
	acts.Progress = c
	acts.Temporal = c
	acts.Metrics = obs.metrics
	acts.CrashAt = crashAt
	if crashAt != "" {
		slog.Warn("testing knob on: this worker kills itself (kill -9) when a step reaches the crash point", "crash_at", string(crashAt))
	}
	if acts.Notifier, err = newNotifier(cfg); err != nil {
		return err
	}
	acts.Yahoo = &yahoo.Client{BaseURL: cfg.YahooURL, UserAgent: "Mozilla/5.0 (compatible; finsight)"}
	usage := &activities.UsageInterceptor{Store: store, Worker: activities.WorkerName()}
	// On SIGTERM the worker stops polling and closes the activities' worker
	// stop channel: training checkpoints at the next batch and ends its
	// attempt (retryable, resumed by the next worker) well inside
	// stopTimeout, after which the SDK would cancel what still runs.
	opts := worker.Options{Interceptors: []interceptor.WorkerInterceptor{&telemetry.Interceptor{Metrics: obs.metrics}, usage}, WorkerStopTimeout: stopTimeout}
	// LibTorch's intra-op thread count is process-wide: set once, before
	// any training, it holds for every training and evaluation this worker
	// runs (each OS thread picks it up at its first parallel loop).
	threads := capa.threadsPerTraining()
	model.SetThreads(threads)

	// The light steps (ingest, download, plots, register, reports) and the
	// workflows: the SDK's default concurrency, they mostly wait on I/O.
	w := worker.New(c, cfg.TaskQueue, opts)
	workflows.Register(w)
	// Every step, the training ones too: executions begun before the train
	// queue existed still send their training here (see workflows'
	// "train-queue" version).
	activities.Register(w, acts)
	// The train queue: trainings, trials and the steps that load a model,
	// at most trainSlots at a time, each on threads LibTorch threads, so
	// trainSlots × threads stays within the cores by default.
	trainOpts := opts
	trainOpts.MaxConcurrentActivityExecutionSize = capa.trainSlots
	trainQueue := config.TrainQueue(cfg.TaskQueue)
	tw := worker.New(c, trainQueue, trainOpts)
	activities.RegisterTraining(tw, acts)
	if err := tw.Start(); err != nil {
		return fmt.Errorf("start train worker on %s: %w", trainQueue, err)
	}
	defer tw.Stop()
	if device.IsCuda() {
		// Only a CUDA worker polls the GPU queue, so runs that ask for CUDA
		// never land on a CPU-only machine. Its own trainSlots limit: a
		// training there keeps the GPU, not the cores, busy.
		gw := worker.New(c, config.GPUTaskQueue, trainOpts)
		activities.RegisterTraining(gw, acts)
		if err := gw.Start(); err != nil {
			return fmt.Errorf("start gpu worker: %w", err)
		}
		defer gw.Stop()
	}
	slog.Info("worker ready", "task_queue", cfg.TaskQueue, "light_slots", "sdk default", "train_queue", trainQueue,
		"train_slots", capa.trainSlots, "threads", model.Threads(), "cpus", runtime.NumCPU(), "worker", usage.Worker,
		"store", store.URI(""), "device", fmt.Sprint(device), "gpu_queue", device.IsCuda())
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

// codeVersion is the git commit this binary was built from, when the
// build recorded it (go build -buildvcs=true in a git checkout).
func codeVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "+dirty"
	}
	return rev
}
