package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/model"
)

// workerProcess is the real worker binary, run as a child process so the
// test can kill -9 it.
type workerProcess struct {
	cmd *exec.Cmd
	log *bytes.Buffer
}

func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/finsight/finsight/worker").CombinedOutput()
	if err != nil {
		t.Fatalf("build worker: %v\n%s", err, out)
	}
	return bin
}

// buildStarter builds the starter binary (the CLI a user runs).
func buildStarter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "starter")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/finsight/finsight/starter").CombinedOutput()
	if err != nil {
		t.Fatalf("build starter: %v\n%s", err, out)
	}
	return bin
}

func startWorker(t *testing.T, bin string, env []string) *workerProcess {
	t.Helper()
	w := &workerProcess{cmd: exec.Command(bin), log: &bytes.Buffer{}}
	w.cmd.Env = append(os.Environ(), env...)
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(func() { _ = w.cmd.Process.Kill(); _ = w.cmd.Wait() })
	return w
}

// waitForCheckpoint polls the store until a training checkpoint of at least
// epoch n exists, and returns its epoch.
func waitForCheckpoint(t *testing.T, store blob.Store, n int, limit time.Duration) int {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		keys, err := store.List(ctx, "runs/")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !strings.Contains(k, "/checkpoints/") {
				continue
			}
			raw, err := blob.GetBytes(ctx, store, k)
			if err != nil {
				continue
			}
			if c, err := model.UnmarshalCheckpoint(raw); err == nil && c.Epoch >= n {
				return c.Epoch
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no checkpoint of epoch %d within %v", n, limit)
	return 0
}

// crashStack is a dev server, a local store and the real worker binary run
// as a child process on queue, which a test may kill -9 and start again.
type crashStack struct {
	*stack
	bin   string
	env   []string
	first *workerProcess
}

func startCrashStack(t *testing.T, queue string, extraEnv ...string) *crashStack {
	t.Helper()
	bin := buildWorker(t)
	srv := devserver.Start(t)
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	env := append([]string{"TEMPORAL_ADDRESS=" + srv.Address, "FINSIGHT_STORE=" + dir, "FINSIGHT_TASK_QUEUE=" + queue, "FINSIGHT_DEVICE=cpu",
		"FINSIGHT_METRICS_ADDR="}, extraEnv...)
	first := startWorker(t, bin, env)
	return &crashStack{stack: &stack{store: store, c: srv.Client(t), queue: queue}, bin: bin, env: env, first: first}
}

// restart kills the first worker with kill -9 and starts a second one.
func (cs *crashStack) restart(t *testing.T) *workerProcess {
	t.Helper()
	if err := cs.first.cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup, no goodbye to the server
		t.Fatal(err)
	}
	_ = cs.first.cmd.Wait()
	return startWorker(t, cs.bin, cs.env)
}

func TestTrainingSurvivesKillNineOfTheWorker(t *testing.T) {
	cs := startCrashStack(t, "crash-test")
	s, store, queue := cs.stack, cs.store, cs.queue
	key := s.upload(t, sharedtest.Path(t, "single", "NFLX.csv"))
	const epochs = 5
	in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key, Model: pipeline.ModelParams{Units: 32, Epochs: epochs}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "crash-nflx", TaskQueue: queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}

	at := waitForCheckpoint(t, store, 2, 5*time.Minute)
	second := cs.restart(t)
	t.Logf("killed the worker (kill -9) after the epoch-%d checkpoint", at)

	var res pipeline.TrainingResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("pipeline failed after the crash: %v\nsecond worker log:\n%s", err, second.log)
	}
	tr := res.Training
	t.Logf("train attempt %d resumed from epoch %d and trained %d more; test RMSE %.3f, naive %.3f",
		tr.Attempt, tr.ResumedFrom, tr.EpochsRun, res.Metrics.TestRMSE, res.Metrics.NaiveRMSE)
	if tr.Attempt < 2 || tr.ResumedFrom < at {
		t.Fatalf("training was not resumed: %+v (checkpoint was at epoch %d)", tr, at)
	}
	if tr.ResumedFrom+tr.EpochsRun != epochs {
		t.Fatalf("epochs trained in total %d+%d, want %d (not restarted from zero)", tr.ResumedFrom, tr.EpochsRun, epochs)
	}
	if len(res.Curve) != epochs || res.Curve[0].Epoch != 1 || res.Curve[epochs-1].Epoch != epochs {
		t.Fatalf("learning curve %+v does not cover epochs 1..%d once each", res.Curve, epochs)
	}
	if res.ModelVersion != 1 {
		t.Fatalf("model version %d, want 1", res.ModelVersion)
	}
}
