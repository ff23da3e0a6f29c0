package workflows

import (
	"context"
	"slices"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// stubs stand in for the steps, one per name in the contract, with each
// step's signature, so that tests mock steps by name
// (env.OnActivity(steps.Train, ...)) without linking package activities:
// the test environment only mocks registered names, and decodes a step's
// input into its registered parameter type. A stub that runs (its step was
// not mocked) fails the step.
var stubs = map[string]any{
	steps.Ingest:       stub[steps.IngestInput, steps.IngestResult](steps.Ingest),
	steps.Download:     stub[steps.DownloadInput, steps.DownloadResult](steps.Download),
	steps.Split:        stub[steps.SplitInput, steps.Splits](steps.Split),
	steps.Validate:     stub[steps.ValidateInput, steps.ValidateResult](steps.Validate),
	steps.Clean:        stub[steps.CleanInput, steps.CleanResult](steps.Clean),
	steps.Scale:        stub[steps.ScaleInput, steps.ScaleResult](steps.Scale),
	steps.Window:       stub[steps.WindowInput, steps.Splits](steps.Window),
	steps.Plot:         stub[steps.PlotInput, steps.PlotResult](steps.Plot),
	steps.Train:        stub[steps.TrainInput, steps.TrainResult](steps.Train),
	steps.TrainTrial:   stub[steps.TrialInput, steps.TrialResult](steps.TrainTrial),
	steps.Evaluate:     stub[steps.EvaluateInput, steps.EvaluateResult](steps.Evaluate),
	steps.Compare:      stub[steps.CompareInput, pipeline.Comparison](steps.Compare),
	steps.Register:     stub[steps.RegisterInput, steps.RegisterResult](steps.Register),
	steps.Promote:      stub[steps.PromoteInput, pipeline.Promotion](steps.Promote),
	steps.ResolveBase:  stub[steps.ResolveBaseInput, pipeline.BaseModel](steps.ResolveBase),
	steps.CheckNewData: stub[steps.CheckNewDataInput, steps.CheckNewDataResult](steps.CheckNewData),
	steps.Merge:        stub[steps.MergeInput, steps.MergeResult](steps.Merge),
	steps.RejectFiles:  stub[steps.RejectInput, steps.RejectResult](steps.RejectFiles),
	steps.HandOff:      stub[steps.HandOffInput, steps.HandOffResult](steps.HandOff),
	steps.ScanInbox:    stub[pipeline.InboxInput, pipeline.InboxResult](steps.ScanInbox),
	steps.SaveRun:      stub[runs.Record, steps.SaveRunResult](steps.SaveRun),
	steps.Report:       stub[steps.ReportInput, steps.ReportResult](steps.Report),
	steps.Notify:       stub[steps.NotifyInput, steps.NotifyResult](steps.Notify),

	steps.ListFleetFiles: stub[steps.ListFleetInput, steps.ListFleetResult](steps.ListFleetFiles),
	steps.PrepareTickers: stub[steps.PrepareInput, steps.PrepareResult](steps.PrepareTickers),
	steps.FleetReport:    stub[steps.FleetReportInput, steps.FleetReportResult](steps.FleetReport),

	steps.BacktestPlan:      stub[steps.BacktestPlanInput, steps.BacktestPlanResult](steps.BacktestPlan),
	steps.BacktestFoldData:  stub[steps.BacktestFoldDataInput, steps.BacktestFoldDataResult](steps.BacktestFoldData),
	steps.BacktestScore:     stub[steps.BacktestScoreInput, steps.BacktestScoreResult](steps.BacktestScore),
	steps.BacktestSummarize: stub[steps.BacktestSummarizeInput, steps.BacktestSummarizeResult](steps.BacktestSummarize),
	steps.BacktestReport:    stub[steps.BacktestReportInput, steps.BacktestReportResult](steps.BacktestReport),
}

// stub is a step that fails because the test did not mock it.
func stub[In, Out any](name string) func(context.Context, In) (Out, error) {
	return func(context.Context, In) (Out, error) {
		var zero Out
		return zero, temporal.NewNonRetryableApplicationError("step "+name+" is not mocked in this test", "NotMocked", nil)
	}
}

// registerSteps registers every stub under its step's name.
func registerSteps(env *testsuite.TestWorkflowEnvironment) {
	for name, fn := range stubs {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	// The pipelines start a Notification child per event (notify.go).
	env.RegisterWorkflowWithOptions(Notification, workflow.RegisterOptions{Name: pipeline.NotifyWorkflow})
}

func TestStubsCoverTheContract(t *testing.T) {
	var names []string
	for name := range stubs {
		names = append(names, name)
	}
	if got, want := slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(steps.Names())); !slices.Equal(got, want) {
		t.Fatalf("stubs for %v, want one per step %v", got, want)
	}
}
