package activities

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/internal/telemetry"
)

// A run is counted once, when its record is first saved with a final
// status: the saves while it runs, and a repeated final save (the old
// report-after-finish order saves twice), do not count.
func TestSaveRunCountsARunOnceWhenItEnds(t *testing.T) {
	h := newHarness(t)
	reg := telemetry.NewRegistry()
	h.acts.Metrics = telemetry.NewWorker(reg)
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	save := func(rec runs.Record) {
		t.Helper()
		var out steps.SaveRunResult
		if err := h.run(h.acts.SaveRun, rec, &out); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		t.Helper()
		n, err := testutil.GatherAndCount(reg, "finsight_runs_total")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	rec := runs.Record{ID: "run-count", Workflow: "TrainingPipeline", Ticker: "NFLX", Status: runs.StatusRunning, StartedAt: start}
	save(rec)
	save(rec)
	if n := count(); n != 0 {
		t.Fatalf("%d run series after saves of a running run, want none", n)
	}
	end := start.Add(time.Minute)
	rec.Status, rec.FinishedAt = runs.StatusFailed, &end
	save(rec)
	save(rec)
	if n := count(); n != 1 {
		t.Fatalf("%d run series, want 1", n)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "finsight_runs_total" {
			continue
		}
		m := f.GetMetric()[0]
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["workflow"] != "TrainingPipeline" || labels["outcome"] != "failed" || m.GetCounter().GetValue() != 1 {
			t.Errorf("finsight_runs_total %v = %v, want {workflow=TrainingPipeline,outcome=failed} 1", labels, m.GetCounter().GetValue())
		}
	}
}
