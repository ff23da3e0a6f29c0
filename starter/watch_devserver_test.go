package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/workflows"
)

const demoWorkflow = "ProgressDemo"

// demoInput drives progressDemo.
type demoInput struct {
	Epochs int
	Step   time.Duration // each stage before training, and each epoch
	Block  bool          // after training, wait until cancelled
	Fail   string        // fail with this message after training
}

var demoStage = temporal.NewSearchAttributeKeyKeyword("Stage")

// progressDemo is a small workflow that answers the pipelines' progress
// query as they do: the stage, and from the first finished epoch on the
// epoch, the epochs and the losses; it also sets the Stage search
// attribute. Its stages and epochs advance on timers, so the starter reads
// a real query of a real workflow on the dev server.
func progressDemo(ctx workflow.Context, in demoInput) (string, error) {
	var p pipeline.Progress
	if err := workflow.SetQueryHandler(ctx, pipeline.ProgressQuery, func() (pipeline.Progress, error) { return p, nil }); err != nil {
		return "", err
	}
	stage := func(s string) {
		p.Stage = s
		_ = workflow.UpsertTypedSearchAttributes(ctx, demoStage.ValueSet(s))
	}
	defer func() {
		if ctx.Err() != nil {
			stage("cancelled")
		}
	}()
	for _, s := range []string{"ingest", "clean", "window"} {
		stage(s)
		if err := workflow.Sleep(ctx, in.Step); err != nil {
			return "", err
		}
	}
	stage("train")
	for e := 1; e <= in.Epochs; e++ {
		if err := workflow.Sleep(ctx, in.Step); err != nil {
			return "", err
		}
		p.Epoch, p.Epochs, p.TrainLoss, p.ValLoss = e, in.Epochs, 1/float64(e), 1.5/float64(e)
	}
	if err := workflow.Sleep(ctx, in.Step/2); err != nil { // the weights being written
		return "", err
	}
	if in.Block {
		return "", workflow.Await(ctx, func() bool { return false })
	}
	stage("evaluate")
	if err := workflow.Sleep(ctx, in.Step); err != nil {
		return "", err
	}
	if in.Fail != "" {
		stage("failed")
		return "", temporal.NewNonRetryableApplicationError(in.Fail, "Demo", nil)
	}
	stage("completed")
	return "done", nil
}

// TestWatchStatusCancelAgainstDevServer runs watch, status and cancel
// against workflows with a progress query on a real dev server: watch in
// a pseudo-terminal draws the bar to 100%, off a terminal it prints a line
// per change; status reports the stage, the epoch, the memo and the last
// error; cancel cancels and reports how the workflow ended.
func TestWatchStatusCancelAgainstDevServer(t *testing.T) {
	srv := devserver.Start(t)
	queue := "starter-watch-test"
	env := map[string]string{"TEMPORAL_ADDRESS": srv.Address, "FINSIGHT_TASK_QUEUE": queue, "FINSIGHT_UI_URL": "http://ui.test",
		"FINSIGHT_STORE": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	c := srv.Client(t)
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(progressDemo, workflow.RegisterOptions{Name: demoWorkflow})
	registerValidateStubs(w)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	start := func(t *testing.T, id string, in demoInput) {
		t.Helper()
		_, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: queue,
			Memo: map[string]any{"ticker": "NFLX", "mode": "demo"}}, demoWorkflow, in)
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("watch in a pseudo-terminal", func(t *testing.T) {
		start(t, "watch-pty", demoInput{Epochs: 5, Step: 300 * time.Millisecond})
		// The starter as a process of its own (this test binary running
		// main), its stdout a pseudo-terminal.
		cmd := exec.Command(os.Args[0], "watch", "--every", "100ms", "watch-pty")
		cmd.Env = append(os.Environ(), runMainEnv+"=1", "TEMPORAL_ADDRESS="+srv.Address, "FINSIGHT_NAMESPACE=default",
			"FINSIGHT_UI_URL=http://ui.test")
		tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
		if err != nil {
			t.Fatalf("start the starter in a pseudo-terminal: %v", err)
		}
		defer tty.Close()
		var out bytes.Buffer
		copied := make(chan struct{})
		go func() { _, _ = io.Copy(&out, tty); close(copied) }() // ends with EIO when the starter exits
		waitErr := make(chan error, 1)
		go func() { waitErr <- cmd.Wait() }()
		select {
		case err = <-waitErr:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("starter watch did not end within 60 s")
		}
		select {
		case <-copied:
		case <-time.After(10 * time.Second):
			t.Fatal("the pseudo-terminal was not closed")
		}
		got := out.String()
		t.Logf("starter watch in a pseudo-terminal (the last 600 bytes):\n%q", got[max(0, len(got)-600):])
		if err != nil {
			t.Fatalf("starter watch: %v\n%s", err, got)
		}
		for _, want := range []string{"watching watch-pty (ProgressDemo)", "100% |", "train · epoch 5/5 · loss 0.2 (val 0.3)",
			"ETA ", "completed", `watch-pty completed: "done"`} {
			if !strings.Contains(got, want) {
				t.Errorf("the terminal shows no %q", want)
			}
		}
		if !strings.Contains(got, "\r") || !strings.Contains(got, "█") {
			t.Errorf("no bar drawn in place (no carriage return or no filled cell)")
		}
		// The last frame of the bar is the full one.
		frames := strings.Split(got, "\r")
		last := ""
		for _, f := range frames {
			if strings.Contains(f, "% |") {
				last = f
			}
		}
		if !strings.Contains(last, "100% |") || !strings.Contains(last, "completed") {
			t.Errorf("the bar's last frame is %q, want it at 100%%, completed", last)
		}
	})

	t.Run("watch off a terminal", func(t *testing.T) {
		start(t, "watch-lines", demoInput{Epochs: 3, Step: 300 * time.Millisecond})
		out := mustRun(t, getenv, "watch", "--every", "100ms", "watch-lines")
		t.Logf("starter watch:\n%s", out)
		for _, want := range []string{"watching watch-lines (ProgressDemo)\n  web ui: http://ui.test/namespaces/default/workflows/watch-lines\n",
			"\n  ingest\n", "\n  train\n", "\n  train · epoch 1/3 · loss 1 (val 1.5) · ETA ", "\n  train · epoch 3/3 · loss 0.3333 (val 0.5)\n",
			"\n  evaluate · epoch 3/3", `watch-lines completed: "done"` + "\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in the output", want)
			}
		}
		if strings.Contains(out, "%") || strings.Contains(out, "\r") {
			t.Errorf("a bar off a terminal:\n%q", out)
		}
	})

	t.Run("status and cancel", func(t *testing.T) {
		id := "watch-cancel"
		start(t, id, demoInput{Epochs: 3, Step: 200 * time.Millisecond, Block: true})
		var s launch.WorkflowStatus
		for deadline := time.Now().Add(30 * time.Second); s.Epoch < 3; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never trained 3 epochs: %+v", s)
			}
			if err := json.Unmarshal([]byte(mustRun(t, getenv, "status", "--json", id)), &s); err != nil {
				t.Fatal(err)
			}
		}
		if s.Status != "Running" || s.Type != demoWorkflow || s.Stage != "train" || s.Epochs != 3 || s.ValLoss != 0.5 ||
			s.Memo["ticker"] != "NFLX" || s.Memo["mode"] != "demo" || s.Closed != nil || s.LastError != "" ||
			s.WebUI != "http://ui.test/namespaces/default/workflows/"+id {
			t.Errorf("status --json: %+v", s)
		}
		out := mustRun(t, getenv, "status", id)
		t.Logf("starter status:\n%s", out)
		for _, want := range []string{"workflow:   watch-cancel (ProgressDemo)\n", "status:     Running (started ", "stage:      train\n",
			"epoch:      3/3 (loss 0.3333, val 0.5)\n", "  ticker:      NFLX\n", "last error: -\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q", want)
			}
		}

		out = mustRun(t, getenv, "cancel", "--wait", "20s", id)
		t.Logf("starter cancel:\n%s", out)
		if !strings.HasPrefix(out, "cancellation of watch-cancel (ProgressDemo) requested") || !strings.Contains(out, "watch-cancel: Canceled (stage cancelled)\n") {
			t.Errorf("cancel:\n%s", out)
		}
		out = mustRun(t, getenv, "status", id)
		if !strings.Contains(out, "status:     Canceled (started ") || !strings.Contains(out, ", closed ") ||
			!strings.Contains(out, "stage:      cancelled\n") || !strings.Contains(out, "last error: ") || strings.Contains(out, "last error: -") {
			t.Errorf("status after cancel:\n%s", out)
		}
		code, _, errOut := runStarter(t, getenv, "cancel", id)
		if code != 1 || !strings.Contains(errOut, "watch-cancel is not running: it is canceled") {
			t.Errorf("second cancel: exit %d, %q", code, errOut)
		}
	})

	t.Run("a run that fails", func(t *testing.T) {
		id := "watch-fail"
		start(t, id, demoInput{Epochs: 1, Step: 100 * time.Millisecond, Fail: "stand-in failure"})
		code, out, errOut := runStarter(t, getenv, "watch", "--every", "100ms", id)
		if code != 1 || !strings.Contains(errOut, "watch-fail failed") || !strings.Contains(errOut, "stand-in failure") {
			t.Errorf("watch of a failing run: exit %d\n%s%s", code, out, errOut)
		}
		out = mustRun(t, getenv, "status", id)
		if !strings.Contains(out, "status:     Failed") || !strings.Contains(out, "stage:      failed\n") || !strings.Contains(out, "last error: ") ||
			!strings.Contains(out, "stand-in failure") {
			t.Errorf("status of a failed run:\n%s", out)
		}
	})

	// The real ValidateData (its steps stubbed) sets its memo and Stage on
	// the server, and status shows them.
	t.Run("status of a real ValidateData", func(t *testing.T) {
		csv := filepath.Join(t.TempDir(), "nflx.csv")
		if err := os.WriteFile(csv, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := mustRun(t, getenv, "validate", "--ticker", "nflx", "--csv", csv)
		m := regexp.MustCompile(`\(workflow (\S+)\)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no workflow id in:\n%s", out)
		}
		var s launch.WorkflowStatus
		if err := json.Unmarshal([]byte(mustRun(t, getenv, "status", "--json", m[1])), &s); err != nil {
			t.Fatal(err)
		}
		sum := blob.ContentHash([]byte("Date,Open\n2022-01-03,600\n"))
		want := map[string]string{"ticker": "NFLX", "mode": "validate", "data": "upload " + sum[:12], "data_version": strings.Repeat("cd", 6) + " (3 rows)"}
		if s.Status != "Completed" || s.Stage != "completed" || !maps.Equal(s.Memo, want) {
			t.Errorf("status of %s: %+v, want completed with memo %v", m[1], s, want)
		}
	})

	t.Run("no such workflow", func(t *testing.T) {
		for _, cmd := range []string{"watch", "status", "cancel"} {
			code, _, errOut := runStarter(t, getenv, cmd, "no-such-workflow")
			if code != 1 || !strings.Contains(errOut, "no workflow no-such-workflow") {
				t.Errorf("%s: exit %d, %q", cmd, code, errOut)
			}
		}
	})
}

// registerValidateStubs puts the real ValidateData on w with its steps
// stubbed: three rows of raw data, no anomaly.
func registerValidateStubs(w worker.Worker) {
	w.RegisterWorkflowWithOptions(workflows.ValidateData, workflow.RegisterOptions{Name: pipeline.ValidateWorkflow})
	raw := blob.Ref{Key: "data/raw/NFLX/x.arrow", SHA256: strings.Repeat("cd", 32), Rows: 3}
	w.RegisterActivityWithOptions(func(context.Context, steps.IngestInput) (steps.IngestResult, error) {
		return steps.IngestResult{Raw: raw}, nil
	}, activity.RegisterOptions{Name: steps.Ingest})
	w.RegisterActivityWithOptions(func(context.Context, steps.SplitInput) (steps.Splits, error) {
		return steps.Splits{Train: raw, Val: raw, Test: raw}, nil
	}, activity.RegisterOptions{Name: steps.Split})
	w.RegisterActivityWithOptions(func(context.Context, steps.ValidateInput) (steps.ValidateResult, error) {
		return steps.ValidateResult{Counts: map[string]int{}}, nil
	}, activity.RegisterOptions{Name: steps.Validate})
}
