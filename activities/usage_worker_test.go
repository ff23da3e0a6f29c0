package activities

import (
	"context"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// The run record says which worker ran each step: SaveRun carries the
// worker of the step's last attempt from the usage stats into the step.
func TestSaveRunNamesTheWorkerOfEachStep(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	const id = "run-workers"
	for i, st := range []runs.Stat{
		{Activity: "Train", StartedAt: start, WallMS: 10, Attempt: 1, Worker: "11@a"},
		{Activity: "Train", StartedAt: start.Add(time.Second), WallMS: 10, Attempt: 2, Worker: "22@b"},
		{Activity: "Evaluate", StartedAt: start.Add(2 * time.Second), WallMS: 1, Attempt: 1, Worker: "22@b"},
	} {
		if err := runs.WriteStat(ctx, h.acts.Store, id, st.Activity+string(rune('0'+i)), st); err != nil {
			t.Fatal(err)
		}
	}
	rec := runs.Record{ID: id, Workflow: "TrainingPipeline", Ticker: "NFLX", Status: runs.StatusRunning, StartedAt: start,
		Steps: []runs.Step{{Name: "window", StartedAt: start}, {Name: "train", StartedAt: start}, {Name: "evaluate", StartedAt: start}}}
	var out steps.SaveRunResult
	if err := h.run(h.acts.SaveRun, rec, &out); err != nil {
		t.Fatal(err)
	}
	got, err := runs.Read(ctx, h.acts.Store, id)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"window": "", "train": "22@b", "evaluate": "22@b"}
	for _, s := range got.Steps {
		if s.Worker != want[s.Name] {
			t.Errorf("step %s: worker %q, want %q", s.Name, s.Worker, want[s.Name])
		}
	}
	if got.Steps[1].Attempts != 2 {
		t.Errorf("train attempts %d, want 2", got.Steps[1].Attempts)
	}
}

func TestWorkerNameIsPidAtHost(t *testing.T) {
	if n := WorkerName(); len(n) < 3 || n[0] < '1' || n[0] > '9' {
		t.Fatalf("WorkerName() = %q, want pid@host", n)
	}
}
