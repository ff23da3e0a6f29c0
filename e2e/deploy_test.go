package e2e

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/model"
)

// attemptCheckpoint polls the store for the checkpoint training attempt n
// writes, until it is at least of epoch done (mid-epoch: also a batch > 0
// when midEpoch), and returns it.
func attemptCheckpoint(t *testing.T, store blob.Store, n, done int, midEpoch bool, limit time.Duration) *model.Checkpoint {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("/attempt-%03d.ckpt", n)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		keys, err := store.List(ctx, "runs/")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !strings.Contains(k, "/checkpoints/") || !strings.HasSuffix(k, name) {
				continue
			}
			raw, err := blob.GetBytes(ctx, store, k)
			if err != nil {
				continue
			}
			if c, err := model.UnmarshalCheckpoint(raw); err == nil && c.Epoch >= done && (!midEpoch || c.Batch > 0) {
				return c
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no checkpoint of attempt %d at epoch %d (mid-epoch %v) within %v", n, done, midEpoch, limit)
	return nil
}

// Four deploys in a row (SIGTERM to the worker mid-epoch, a new worker
// started): each writes a checkpoint and stops cleanly, the next worker
// resumes at that batch, and the run completes: deploys do not use up a
// retry budget.
func TestTrainingSurvivesFourDeploysMidEpoch(t *testing.T) {
	t.Parallel()
	cs := startCrashStack(t, "deploy-test")
	s, store := cs.stack, cs.store
	key := s.upload(t, sharedtest.Path(t, "single", "NFLX.csv"))
	const epochs, deploys = 6, 4
	in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key, Model: pipeline.ModelParams{Units: 32, Epochs: epochs, Patience: epochs}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	const id = "deploy-nflx"
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cs.queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	current := cs.first
	for i := 1; i <= deploys; i++ {
		// Attempt i finishes epoch i (attempt 1 from scratch, the others
		// from the middle of it), then is stopped in the middle of epoch i+1.
		attemptCheckpoint(t, store, i, i, false, 8*time.Minute)
		time.Sleep(1500 * time.Millisecond)
		if err := current.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := current.cmd.Wait(); err != nil {
			t.Fatalf("worker did not stop cleanly on SIGTERM: %v\n%s", err, current.log)
		}
		c := attemptCheckpoint(t, store, i, i, true, 10*time.Second)
		t.Logf("deploy %d: SIGTERM; checkpoint after %d epochs + %d batches", i, c.Epoch, c.Batch)
		current = startWorker(t, cs.bin, cs.env)
	}
	var res pipeline.TrainingResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("training failed after %d deploys: %v\nlast worker log:\n%s", deploys, err, current.log)
	}
	tr := res.Training
	if tr.Attempt != deploys+1 {
		t.Fatalf("finished on attempt %d, want %d (one per deploy)", tr.Attempt, deploys+1)
	}
	if len(res.Curve) != epochs || res.Curve[0].Epoch != 1 || res.Curve[epochs-1].Epoch != epochs {
		t.Fatalf("learning curve %+v does not cover epochs 1..%d once each", res.Curve, epochs)
	}
	if res.ModelVersion != 1 {
		t.Fatalf("model version %d, want 1", res.ModelVersion)
	}
}
