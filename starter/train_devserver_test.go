package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
)

// trainRuns counts the runs of the stand-in TrainingPipeline by epochs,
// each run once however often its code is replayed.
type trainRuns struct {
	mu   sync.Mutex
	runs map[string]int // run id → epochs
}

func (r *trainRuns) count(epochs int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.runs {
		if e == epochs {
			n++
		}
	}
	return n
}

// workflow is a stand-in TrainingPipeline that returns a canned result. By
// epochs: 4 takes 3s (long enough to attach to), 5 fails.
func (r *trainRuns) workflow(ctx workflow.Context, in pipeline.TrainingInput) (pipeline.TrainingResult, error) {
	info := workflow.GetInfo(ctx)
	r.mu.Lock()
	r.runs[info.WorkflowExecution.RunID] = in.Model.Epochs
	r.mu.Unlock()
	switch in.Model.Epochs {
	case 4:
		if err := workflow.Sleep(ctx, 3*time.Second); err != nil {
			return pipeline.TrainingResult{}, err
		}
	case 5:
		return pipeline.TrainingResult{}, errors.New("stand-in training failed")
	}
	res := pipeline.TrainingResult{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		Ticker: in.Ticker, ModelVersion: 1, ModelURI: "file:///models/" + in.Ticker + "/1", Anomalies: map[string]int{}}
	res.Raw.SHA256 = "0123456789abcdef0123456789abcdef"
	res.Promotion.Alias = "champion"
	return res, nil
}

var workflowIDLine = regexp.MustCompile(`workflow id: (\S+)`)

func startedID(t *testing.T, out string) string {
	t.Helper()
	m := workflowIDLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no workflow id in:\n%s", out)
	}
	return m[1]
}

// TestTrainIsIdempotentAgainstDevServer runs `starter train` against a real
// dev server with a stand-in TrainingPipeline: the same arguments twice
// train once, --new-run trains again, a start while the first runs
// attaches to it, and a failed run may run again.
func TestTrainIsIdempotentAgainstDevServer(t *testing.T) {
	srv := devserver.Start(t)
	queue := "starter-train-test"
	env := map[string]string{"TEMPORAL_ADDRESS": srv.Address, "FINSIGHT_STORE": t.TempDir(), "FINSIGHT_TASK_QUEUE": queue}
	getenv := func(k string) string { return env[k] }
	runs := &trainRuns{runs: map[string]int{}}
	w := worker.New(srv.Client(t), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(runs.workflow, workflow.RegisterOptions{Name: pipeline.TrainingWorkflow})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	csv := filepath.Join(t.TempDir(), "nflx.csv")
	if err := os.WriteFile(csv, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(epochs string, more ...string) []string {
		return append([]string{"train", "--ticker", "NFLX", "--csv", csv, "--epochs", epochs}, more...)
	}

	// The same arguments twice: one run, the second reports the first.
	first := mustRun(t, getenv, args("3", "--wait")...)
	second := mustRun(t, getenv, args("3", "--wait")...)
	t.Logf("first:\n%s\nsecond:\n%s", first, second)
	if n := runs.count(3); n != 1 {
		t.Errorf("the same arguments twice ran the pipeline %d times, want 1", n)
	}
	id := startedID(t, first)
	if got := startedID(t, second); got != id {
		t.Errorf("second start: workflow id %s, want the first's %s", got, id)
	}
	if !strings.HasPrefix(first, "started TrainingPipeline") || !strings.HasPrefix(second, "already completed") {
		t.Errorf("want started, then already completed:\n%s\n%s", first, second)
	}
	for _, out := range []string{first, second} {
		if !strings.Contains(out, "NFLX model v1 registered as champion") {
			t.Errorf("no result printed:\n%s", out)
		}
	}

	// --new-run trains again, under a new id.
	third := mustRun(t, getenv, args("3", "--wait", "--new-run")...)
	if n := runs.count(3); n != 2 {
		t.Errorf("--new-run: %d runs, want 2", n)
	}
	if got := startedID(t, third); got == id || !strings.HasPrefix(got, id+"-") || !strings.HasPrefix(third, "started") {
		t.Errorf("--new-run: workflow id %s (first %s):\n%s", got, id, third)
	}

	// A start while the same request runs attaches to it.
	running := mustRun(t, getenv, args("4")...)
	attached := mustRun(t, getenv, args("4", "--wait")...)
	t.Logf("attached:\n%s", attached)
	if n := runs.count(4); n != 1 {
		t.Errorf("a start while running: %d runs, want 1", n)
	}
	if !strings.HasPrefix(attached, "already running: attached") || startedID(t, attached) != startedID(t, running) {
		t.Errorf("want the second start attached to %s:\n%s", startedID(t, running), attached)
	}

	// A failed run may run again under the same id.
	var failedIDs []string
	for i := range 2 {
		code, out, errOut := runStarter(t, getenv, args("5", "--wait")...)
		if code == 0 || !strings.Contains(errOut, "stand-in training failed") || !strings.HasPrefix(out, "started") {
			t.Fatalf("failing run %d: exit %d\n%s%s", i, code, out, errOut)
		}
		failedIDs = append(failedIDs, startedID(t, out))
	}
	if n := runs.count(5); n != 2 || failedIDs[0] != failedIDs[1] {
		t.Errorf("a failed run again: %d runs under %v, want 2 under one id", n, failedIDs)
	}
}
