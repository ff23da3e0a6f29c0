package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
)

// TestCudaRunWithoutGPUWorkerFails: the stack has one CPU worker on its own
// queue and none on the GPU queue, so a "cuda" run's train step is never
// picked up. It must fail once its GPUWait is over, saying which queue had
// no worker, instead of waiting at Stage=train for ever.
func TestCudaRunWithoutGPUWorkerFails(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	const wait = 5 * time.Second
	in := pipeline.TrainingInput{
		Ticker: "NFLX", CSVKey: s.upload(t, sharedtest.Path(t, "single", "NFLX.csv")),
		Model:  pipeline.ModelParams{Epochs: 1, Units: 8, Layers: 1},
		Device: "cuda", GPUWait: wait,
	}
	const id = "e2e-gpu-wait"
	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
	defer cancel()
	start := time.Now()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	took := time.Since(start)
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (err != nil && strings.Contains(err.Error(), "deadline exceeded")) {
		t.Fatalf("a cuda run with no GPU worker was still running after %s (err %v): it waits on %s for ever",
			took.Round(time.Second), err, config.GPUTaskQueue)
	}
	if err == nil {
		t.Fatal("a cuda run with no GPU worker succeeded")
	}
	t.Logf("failed after %s: %v", took.Round(time.Millisecond), err)
	if took > 60*time.Second {
		t.Errorf("took %s to fail, want about its %s wait", took, wait)
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "NoGPUWorker" || !appErr.NonRetryable() {
		t.Fatalf("error %v is not a non-retryable NoGPUWorker application error", err)
	}
	for _, want := range []string{"train failed", "task queue " + config.GPUTaskQueue, "for 5s", "--device cuda"} {
		if !strings.Contains(appErr.Message(), want) {
			t.Errorf("message %q does not say %q", appErr.Message(), want)
		}
	}

	rec, err := runs.Read(context.Background(), s.store, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != runs.StatusFailed || rec.Stage != "train" || !strings.Contains(rec.Error, config.GPUTaskQueue) {
		t.Fatalf("run record: status %q stage %q error %q, want failed at train naming %s", rec.Status, rec.Stage, rec.Error, config.GPUTaskQueue)
	}
}
