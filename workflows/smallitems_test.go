package workflows

import (
	"slices"
	"testing"

	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// assertReportBeforeCompleted checks that the first saved record saying the
// run completed already lists the report, that the report was rendered as
// finished (its outcome passed along, not the whole record), and that the
// record saved just before it holds the result.
func assertReportBeforeCompleted(t *testing.T, saves []runs.Record, report steps.ReportInput) {
	t.Helper()
	i := slices.IndexFunc(saves, func(r runs.Record) bool { return r.Status == runs.StatusCompleted })
	if i < 0 {
		t.Fatalf("no saved record says completed (%d saves)", len(saves))
	}
	if saves[i].Artifacts["report"] == "" {
		t.Fatalf("save %d of %d says completed but lists no report (artifacts %v): the UI shows a finished run without its report",
			i+1, len(saves), saves[i].Artifacts)
	}
	if f := report.Final; f == nil || f.Status != runs.StatusCompleted || f.FinishedAt.IsZero() {
		t.Fatalf("report rendered with outcome %+v, want completed with its finish time", report.Final)
	}
	if before := saves[i-1]; before.Status != runs.StatusRunning || (before.Result == nil && before.RetrainResult == nil) {
		t.Fatalf("the record saved before the report (status %s) lacks the run's result", before.Status)
	}
}

func TestTrainingReportIsWrittenBeforeTheRunSaysCompleted(t *testing.T) {
	env, _, inputs := mockedPipeline(t, "", nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "nflx", CSVKey: "uploads/x.csv"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	saves, _ := inputs["SaveRun"].([]runs.Record)
	report, _ := inputs["Report"].(steps.ReportInput)
	assertReportBeforeCompleted(t, saves, report)
	last := saves[len(saves)-1]
	if last.Status != runs.StatusCompleted || last.Result == nil || last.Artifacts["report"] == "" {
		t.Fatalf("last saved record %+v", last)
	}
	if last.Artifacts["plots/data_raw_prices.png"] == "" {
		t.Fatalf("the report's artifacts replaced the data plots: %v", last.Artifacts)
	}
}

func TestRetrainingReportIsWrittenBeforeTheRunSaysCompleted(t *testing.T) {
	m := mockedRetrain(t, nil)
	m.mustRun(t, pipeline.RetrainOptions{}, retrainFile("a.csv", true))
	assertReportBeforeCompleted(t, m.records, m.last(t, "Report").(steps.ReportInput))
}

// A diverged training fails at once: retrying the same seed on the same
// data diverges again.
func TestDivergedIsNotRetried(t *testing.T) {
	for name, o := range map[string][]string{
		"train": trainOptions("").RetryPolicy.NonRetryableErrorTypes,
		"trial": trialOptions("").RetryPolicy.NonRetryableErrorTypes,
	} {
		if !slices.Contains(o, steps.ErrDiverged) {
			t.Errorf("%s: non-retryable error types %v lack %q", name, o, steps.ErrDiverged)
		}
	}
}

// With search attributes on, the tuning child carries the run's Ticker, so
// `Ticker = "NFLX"` finds it next to its parent.
func TestTuneChildCarriesTheTickerSearchAttribute(t *testing.T) {
	for _, index := range []bool{true, false} {
		env, _, _ := mockedPipeline(t, "", nil)
		got := "unset"
		env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in TuneInput) (TuneResult, error) {
			got = "absent"
			if v, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(attrTicker); ok {
				got = v
			}
			return TuneResult{Best: in.Base}, nil
		}, workflow.RegisterOptions{Name: pipeline.TuneWorkflow})
		env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "nflx", CSVKey: "uploads/x.csv",
			Tune: pipeline.TuneSpec{Trials: 2}, SearchAttributes: index})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatalf("search attributes %v: workflow failed: %v", index, err)
		}
		if want := map[bool]string{true: "NFLX", false: "absent"}[index]; got != want {
			t.Errorf("search attributes %v: the tune child's Ticker is %q, want %q", index, got, want)
		}
	}
}
