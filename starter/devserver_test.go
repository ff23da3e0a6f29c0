package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/steps"
)

// TestAgainstDevServer runs the schedule and retrain commands through the
// starter's entry point against a real Temporal dev server. The retrain part
// uses stand-in workflows registered under the real names: a ticker
// workflow that keeps the status the real one answers, and a retrain that
// returns a canned result.
func TestAgainstDevServer(t *testing.T) {
	srv := devserver.Start(t)
	store := t.TempDir()
	queue := "starter-test"
	env := map[string]string{"TEMPORAL_ADDRESS": srv.Address, "FINSIGHT_STORE": store, "FINSIGHT_TASK_QUEUE": queue}
	getenv := func(k string) string { return env[k] }
	t.Run("schedules", func(t *testing.T) { testSchedules(t, getenv) })
	t.Run("retrain", func(t *testing.T) { testRetrain(t, srv, getenv, queue, store) })
	t.Run("rollback notifies", func(t *testing.T) { testRollbackNotifies(t, srv, getenv, store) })
}

// testRollbackNotifies: `starter rollback` queues one Notification
// workflow for the rollback on the workers' queue (nothing polls it here:
// the test reads the started workflow's input).
func testRollbackNotifies(t *testing.T, srv *devserver.Server, getenv func(string) string, dir string) {
	ctx := context.Background()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.Registry{Store: store}
	files := map[string][]byte{registry.FileWeights: {1}, registry.FileScaler: {2}, registry.FileConfig: {3}, registry.FileMetrics: {4}, registry.FileLineage: {5}}
	for i, run := range []string{"r1", "r2"} {
		v, err := reg.Register(ctx, "MSFT", registry.Version{RunID: run}, files)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.SetAlias(ctx, "MSFT", registry.Champion, v.Version, fmt.Sprint("test ", i), false, run); err != nil {
			t.Fatal(err)
		}
	}
	out := mustRun(t, getenv, "rollback", "--reason", "bad data", "MSFT")
	if !strings.Contains(out, "MSFT champion is back to v1") || !strings.Contains(out, "notification queued: workflow rollback-MSFT-") {
		t.Fatalf("starter rollback:\n%s", out)
	}
	id := strings.TrimSpace(out[strings.Index(out, "workflow ")+len("workflow "):])
	c := srv.Client(t)
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatalf("no notification workflow %s: %v", id, err)
	}
	if d.WorkflowExecutionInfo.Type.GetName() != pipeline.NotifyWorkflow {
		t.Fatalf("%s is a %s, want %s", id, d.WorkflowExecutionInfo.Type.GetName(), pipeline.NotifyWorkflow)
	}
	iter := c.GetWorkflowHistory(ctx, id, "", false, 0)
	ev, err := iter.Next()
	if err != nil {
		t.Fatal(err)
	}
	var in steps.NotifyInput
	if err := converter.GetDefaultDataConverter().FromPayloads(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
		t.Fatal(err)
	}
	if in.Kind != notify.KindRolledBack || in.Ticker != "MSFT" || in.ModelVersion != 1 || in.PreviousVersion != 2 || !strings.Contains(in.Reason, "bad data") {
		t.Fatalf("notification event %+v", in.Event)
	}
}

// mustRun runs a starter command that must succeed and returns its stdout.
func mustRun(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	code, out, errOut := runStarter(t, getenv, args...)
	if code != 0 {
		t.Fatalf("starter %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func testSchedules(t *testing.T, getenv func(string) string) {
	if out := mustRun(t, getenv, "schedule", "inbox"); out != "created schedule finsight-inbox: InboxScan every 5m\n" {
		t.Fatalf("first schedule inbox: %q", out)
	}
	if out := mustRun(t, getenv, "schedule", "inbox", "--every", "10m"); out != "updated schedule finsight-inbox: InboxScan every 10m (was every 5m)\n" {
		t.Fatalf("second schedule inbox: %q", out)
	}
	if out := mustRun(t, getenv, "schedule", "create", "--ticker", "nflx", "--every", "24h"); out != "created schedule finsight-refresh-NFLX: RefreshTicker every 24h\n" {
		t.Fatalf("schedule create: %q", out)
	}
	code, _, errOut := runStarter(t, getenv, "schedule", "create", "--ticker", "NFLX")
	if code == 0 || !strings.Contains(errOut, "finsight-refresh-NFLX already exists") || !strings.Contains(errOut, "schedule delete --ticker NFLX") {
		t.Fatalf("second create: exit %d, %q: want an error suggesting delete", code, errOut)
	}
	if out := mustRun(t, getenv, "schedule", "create", "--ticker", "NFLX", "--every", "12h", "--update"); !strings.HasPrefix(out, "updated schedule finsight-refresh-NFLX: RefreshTicker every 12h (was every 24h)") {
		t.Fatalf("create --update: %q", out)
	}

	rows := waitForSchedules(t, getenv, func(rows []scheduleRow) bool { return len(rows) == 2 })
	if r := rows[0]; r.ID != pipeline.InboxScheduleID || r.Runs != "inbox scan" || r.Workflow != pipeline.InboxWorkflow || r.Every != "10m" || r.NextRun == nil || r.Paused {
		t.Errorf("inbox row %+v", r)
	}
	if r := rows[1]; r.ID != "finsight-refresh-NFLX" || r.Ticker != "NFLX" || r.Workflow != pipeline.RefreshWorkflow || r.Every != "12h" || r.Paused {
		t.Errorf("refresh row %+v", r)
	}
	out := mustRun(t, getenv, "schedule", "list")
	t.Logf("starter schedule list:\n%s", out)
	if !strings.Contains(out, "finsight-refresh-NFLX") || !strings.Contains(out, "refresh NFLX") {
		t.Errorf("schedule list:\n%s", out)
	}

	if out := mustRun(t, getenv, "schedule", "trigger", "--ticker", "NFLX"); !strings.HasPrefix(out, "triggered schedule finsight-refresh-NFLX") {
		t.Errorf("trigger: %q", out)
	}
	waitForSchedules(t, getenv, func(rows []scheduleRow) bool { return len(rows) == 2 && rows[1].Actions == 1 })

	if out := mustRun(t, getenv, "schedule", "delete", "--ticker", "NFLX"); out != "deleted schedule finsight-refresh-NFLX\n" {
		t.Errorf("delete: %q", out)
	}
	code, _, errOut = runStarter(t, getenv, "schedule", "delete", "--ticker", "NFLX")
	if code == 0 || !strings.Contains(errOut, "no schedule finsight-refresh-NFLX") {
		t.Errorf("second delete: exit %d, %q", code, errOut)
	}
	mustRun(t, getenv, "schedule", "delete", "--id", pipeline.InboxScheduleID)
	waitForSchedules(t, getenv, func(rows []scheduleRow) bool { return len(rows) == 0 })
}

// waitForSchedules lists schedules (an eventually consistent list) until ok
// holds of them.
func waitForSchedules(t *testing.T, getenv func(string) string, ok func([]scheduleRow) bool) []scheduleRow {
	t.Helper()
	var rows []scheduleRow
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		rows = nil
		if err := json.Unmarshal([]byte(mustRun(t, getenv, "schedule", "list", "--json")), &rows); err != nil {
			t.Fatal(err)
		}
		if ok(rows) {
			return rows
		}
	}
	t.Fatalf("schedules never as wanted: %+v", rows)
	return nil
}

func testRetrain(t *testing.T, srv *devserver.Server, getenv func(string) string, queue, store string) {
	w := worker.New(srv.Client(t), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(fakeTickerRetrainer, workflow.RegisterOptions{Name: pipeline.TickerWorkflow})
	w.RegisterWorkflowWithOptions(fakeRetraining, workflow.RegisterOptions{Name: pipeline.RetrainingWorkflow})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	dir := t.TempDir()
	csv := filepath.Join(dir, "jan.csv")
	if err := os.WriteFile(csv, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := blob.ContentHash([]byte("Date,Open\n2022-01-03,600\n"))

	out := mustRun(t, getenv, "retrain", "--ticker", "NFLX", "--csv", csv, "--epochs", "3", "--wait", "--timeout", "2m")
	t.Logf("starter retrain --wait:\n%s", out)
	for _, want := range []string{
		"handed jan.csv (" + sum[:12] + ") to TickerRetrainer", "workflow id: retrain-NFLX",
		"NFLX retrained: model v3 registered as champion", "base: v2 (champion)", "v3 (challenger)", "promotion: v3 beats",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("retrain --wait output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(store, "uploads", sum+".csv")); err != nil {
		t.Errorf("the CSV was not uploaded: %v", err)
	}

	// The same bytes again: the ticker drops them as a duplicate, and the
	// starter reports that drop, not the earlier retrain.
	out = mustRun(t, getenv, "retrain", "--ticker", "NFLX", "--csv", csv, "--json", "--timeout", "2m")
	var dup pipeline.RetrainOutcome
	if err := json.Unmarshal([]byte(out), &dup); err != nil || !isDuplicate(dup) {
		t.Errorf("second retrain --json: %q (%v): want the duplicate outcome", out, err)
	}

	// A retrain that fails: the error names the child workflow.
	bad := filepath.Join(dir, "feb.csv")
	if err := os.WriteFile(bad, []byte("Date,Open\n2022-02-01,500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runStarter(t, getenv, "retrain", "--ticker", "NFLX", "--csv", bad, "--mode", "full", "--json", "--timeout", "2m")
	t.Logf("failing retrain: %s", errOut)
	if code == 0 || !strings.Contains(errOut, "retrain-NFLX-2") || !strings.Contains(errOut, "no base model to retrain in full") {
		t.Errorf("failing retrain: exit %d, %q: want the child workflow and its error", code, errOut)
	}
}

// fakeTickerRetrainer stands in for the ticker workflow (workflows/ticker.go):
// one retrain per signalled file, a duplicate drop (no workflow id, an error
// that starts with "duplicate") for content it has seen, and the status
// query the starter polls.
func fakeTickerRetrainer(ctx workflow.Context, in pipeline.TickerInput) error {
	st := pipeline.TickerStatus{Ticker: in.Ticker, Done: []pipeline.RetrainOutcome{}}
	if err := workflow.SetQueryHandler(ctx, pipeline.StatusQuery, func() (pipeline.TickerStatus, error) { return st, nil }); err != nil {
		return err
	}
	seen := map[string]string{}
	ch := workflow.GetSignalChannel(ctx, pipeline.NewDataSignal)
	for {
		var d pipeline.NewData
		ch.Receive(ctx, &d)
		out := pipeline.RetrainOutcome{Files: []string{d.SHA256}, Names: []string{d.Name}}
		if prev, ok := seen[d.SHA256]; ok {
			out.Error, out.Finished = "duplicate: the same content is retrained by "+prev, workflow.Now(ctx)
			st.Done = append(st.Done, out)
			continue
		}
		st.Seq++
		out.WorkflowID = fmt.Sprintf("%s-%d", pipeline.TickerWorkflowID(in.Ticker), st.Seq)
		seen[d.SHA256] = out.WorkflowID
		st.Running = &pipeline.RunningRetrain{WorkflowID: out.WorkflowID, Files: []pipeline.NewData{d}, Started: workflow.Now(ctx)}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: out.WorkflowID})
		var res pipeline.RetrainingResult
		err := workflow.ExecuteChildWorkflow(cctx, pipeline.RetrainingWorkflow,
			pipeline.RetrainingInput{Ticker: in.Ticker, Files: []pipeline.NewData{d}, Options: d.Options}).Get(ctx, &res)
		if err != nil {
			out.Error = err.Error()
		}
		out.Version, out.Mode, out.Finished = res.ModelVersion, res.Mode, workflow.Now(ctx)
		st.Running, st.Done = nil, append(st.Done, out)
	}
}

// fakeRetraining returns the canned result, or fails a full retrain.
func fakeRetraining(ctx workflow.Context, in pipeline.RetrainingInput) (pipeline.RetrainingResult, error) {
	if in.Options.Mode == pipeline.ModeFull {
		return pipeline.RetrainingResult{}, errors.New("no base model to retrain in full")
	}
	r := sampleRetrainingResult()
	r.WorkflowID = workflow.GetInfo(ctx).WorkflowExecution.ID
	return r, nil
}
