package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/handoff"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/yahoo"
	"github.com/finsight/finsight/model"
)

// kill -9 of the worker while it fine-tunes: the retrain completes on the
// next worker, resumed from its epoch checkpoint.
func TestRetrainSurvivesKillNineDuringFinetuning(t *testing.T) {
	t.Parallel()
	cs := startCrashStack(t, "retrain-crash")
	s, store, queue := cs.stack, cs.store, cs.queue
	s.trainBase(t, "NFLX", nflxUntil2021(t), pipeline.ModelParams{Units: 32, Epochs: 1})

	const epochs = 8
	newData := nflx2022(t)
	d := pipeline.NewData{CSVKey: uploadBytes(t, store, newData), SHA256: blob.ContentHash(newData), Source: "starter", Name: "NFLX_2022_new.csv",
		Options: pipeline.RetrainOptions{Epochs: epochs, Patience: epochs}}
	if _, err := handoff.ToTicker(context.Background(), s.c, handoff.Target{TaskQueue: queue}, "NFLX", d); err != nil {
		t.Fatal(err)
	}
	at := waitForCheckpointUnder(t, store, "runs/"+pipeline.TickerWorkflowID("NFLX")+"-", 2, 5*time.Minute)
	second := cs.restart(t)
	t.Logf("killed the worker (kill -9) after the fine-tuning checkpoint of epoch %d", at)

	st := s.waitRetrains(t, "NFLX", 1, 8*time.Minute)
	o := retrains(st)[0]
	if o.Error != "" || o.Version != 2 {
		t.Fatalf("retrain after the crash: %+v\nsecond worker log:\n%s", o, second.log)
	}
	r := s.result(t, o.WorkflowID)
	tr := r.Training
	t.Logf("fine-tuning attempt %d resumed from epoch %d and trained %d more; v2 RMSE %.4f, v1 %.4f, naive %.4f",
		tr.Attempt, tr.ResumedFrom, tr.EpochsRun, r.Comparison.Scores[0].RMSE, r.Comparison.Scores[1].RMSE, r.Comparison.Scores[2].RMSE)
	if r.Mode != pipeline.ModeFinetune || tr.Attempt < 2 || tr.ResumedFrom < at || tr.ResumedFrom+tr.EpochsRun != epochs {
		t.Fatalf("fine-tuning was not resumed: mode %s, %+v (checkpoint at epoch %d, %d epochs asked)", r.Mode, tr, at, epochs)
	}
}

// waitForCheckpointUnder is waitForCheckpoint for the runs under prefix.
func waitForCheckpointUnder(t *testing.T, store blob.Store, prefix string, n int, limit time.Duration) int {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		keys, err := store.List(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !strings.Contains(k, "/checkpoints/") {
				continue
			}
			if raw, err := blob.GetBytes(ctx, store, k); err == nil {
				if c, err := model.UnmarshalCheckpoint(raw); err == nil && c.Epoch >= n {
					return c.Epoch
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no checkpoint of epoch %d under %s within %v", n, prefix, limit)
	return 0
}

// starter schedule create/list/delete against the dev server, and a
// trigger of the refresh schedule (temporal schedule trigger) with a Yahoo
// stub that has the 2022 days: one retrain runs on them.
func TestRefreshScheduleRetrainsOnNewDays(t *testing.T) {
	t.Parallel()
	srv := devserver.Start(t)
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	stub := yahooStub(t, nflx2022(t))
	s := startStackOn(t, srv, store, func(a *activities.Activities) { a.Yahoo = &yahoo.Client{BaseURL: stub.URL} })
	s.trainBase(t, "NFLX", nflxUntil2021(t), smallBase)

	starter := filepath.Join(t.TempDir(), "starter")
	if out, err := exec.Command("go", "build", "-o", starter, "github.com/finsight/finsight/starter").CombinedOutput(); err != nil {
		t.Fatalf("build starter: %v\n%s", err, out)
	}
	env := append(os.Environ(), "TEMPORAL_ADDRESS="+srv.Address, "FINSIGHT_STORE="+dir, "FINSIGHT_TASK_QUEUE="+s.queue)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(starter, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("starter %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("schedule", "create", "--ticker", "NFLX", "--every", "24h", "--source", "yahoo")
	if out := run("schedule", "list"); !strings.Contains(out, pipeline.RefreshScheduleID("NFLX")) {
		t.Fatalf("schedule list does not show the refresh schedule:\n%s", out)
	}
	cli := exec.Command(devserver.Binary(t), "schedule", "trigger", "--schedule-id", pipeline.RefreshScheduleID("NFLX"), "--address", srv.Address)
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("temporal schedule trigger: %v\n%s", err, out)
	}
	st := s.waitRetrains(t, "NFLX", 1, 10*time.Minute)
	o := retrains(st)[0]
	if o.Error != "" || o.Version != 2 || len(o.Names) != 1 || !strings.HasPrefix(o.Names[0], "yahoo-2022-01-01-") {
		t.Fatalf("refresh retrain: %+v, want v2 from the days downloaded since 2022-01-01", o)
	}
	r := s.result(t, o.WorkflowID)
	if r.Files[0].NewRows != 251 || r.Files[0].First != "2022-01-03" || r.Files[0].Last != "2022-12-30" {
		t.Fatalf("refresh downloaded %+v, want the 251 days of 2022", r.Files[0])
	}
	run("schedule", "delete", "--ticker", "NFLX")
	if out := run("schedule", "list"); strings.Contains(out, pipeline.RefreshScheduleID("NFLX")) {
		t.Fatalf("the refresh schedule is still listed after delete:\n%s", out)
	}
}
