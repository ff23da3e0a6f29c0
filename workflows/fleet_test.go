package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// fakeTrainings stands in for TrainingPipeline: a ticker's training takes
// a minute per letter of its ticker, fails for BAD, and records how many
// ran at once.
type fakeTrainings struct {
	running, most int
	started       []string
	ids           []string
}

func (f *fakeTrainings) run(ctx workflow.Context, in pipeline.TrainingInput) (pipeline.TrainingResult, error) {
	f.running++
	f.most = max(f.most, f.running)
	f.started = append(f.started, in.Ticker)
	f.ids = append(f.ids, workflow.GetInfo(ctx).WorkflowExecution.ID)
	defer func() { f.running-- }()
	if err := workflow.Sleep(ctx, time.Duration(len(in.Ticker))*time.Minute); err != nil {
		return pipeline.TrainingResult{}, err
	}
	if in.Ticker == "BAD" {
		return pipeline.TrainingResult{}, temporal.NewNonRetryableApplicationError(`ingest failed: line 4, column "Open": "x": want a number`, steps.ErrInvalidData, nil)
	}
	rmse := 10.0
	if in.Ticker == "AAPL" {
		rmse = 9 // beats naive
	}
	return pipeline.TrainingResult{ModelVersion: 1, Metrics: metrics.TestSummary{TestRMSE: rmse, NaiveRMSE: 9.5, N: 100},
		Efficacy:  metrics.Efficacy{Overall: metrics.Comparison{MASE: 1.01, DMPValue: 0.3}},
		Promotion: pipeline.Promotion{Alias: "challenger"}}, nil
}

func fleetEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fakeTrainings, *[]steps.FleetReportInput) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	f := &fakeTrainings{}
	env.RegisterWorkflowWithOptions(FleetPipeline, workflow.RegisterOptions{Name: pipeline.FleetWorkflow})
	env.RegisterWorkflowWithOptions(f.run, workflow.RegisterOptions{Name: pipeline.TrainingWorkflow})
	var reports []steps.FleetReportInput
	env.OnActivity(steps.FleetReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.FleetReportInput) (steps.FleetReportResult, error) {
			reports = append(reports, in)
			return steps.FleetReportResult{Report: "mem://fleets/" + in.Result.FleetID + "/fleet.json"}, nil
		})
	return env, f, &reports
}

func items(tickers ...string) []pipeline.FleetItem {
	var out []pipeline.FleetItem
	for _, t := range tickers {
		out = append(out, pipeline.FleetItem{Ticker: t, CSVKey: "uploads/" + t + ".csv"})
	}
	return out
}

// At most Parallel children run; a failed ticker is listed with its
// reason and the fleet completes; the report sums it up.
func TestFleetRunsAtMostParallelAndListsFailures(t *testing.T) {
	env, f, reports := fleetEnv(t)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "fleet-1"})
	var progress []pipeline.FleetProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(pipeline.ProgressQuery)
		if err != nil {
			t.Errorf("progress query: %v", err)
			return
		}
		var p pipeline.FleetProgress
		if err := v.Get(&p); err != nil {
			t.Error(err)
		}
		progress = append(progress, p)
	}, 90*time.Second)
	in := pipeline.FleetInput{Items: items("aapl", "BAD", "MSFT", "IBM", "GOOGL"), Parallel: 2,
		Training: pipeline.TrainingInput{Model: pipeline.ModelParams{Epochs: 2}}}
	env.ExecuteWorkflow(pipeline.FleetWorkflow, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("fleet failed: %v", err)
	}
	var res pipeline.FleetResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if f.most != 2 || len(f.started) != 5 {
		t.Fatalf("%d trainings at most at once of %d, want 2 of 5", f.most, len(f.started))
	}
	if !slices.Contains(f.ids, "fleet-1-AAPL") {
		t.Errorf("child ids %v, want fleet-1-<TICKER>", f.ids)
	}
	var tickers []string
	for _, o := range res.Outcomes {
		tickers = append(tickers, o.Ticker)
	}
	if strings.Join(tickers, ",") != "AAPL,BAD,GOOGL,IBM,MSFT" {
		t.Fatalf("outcomes for %v", tickers)
	}
	bad := res.Outcomes[1]
	if bad.Status != pipeline.FleetFailed || !strings.HasPrefix(bad.Reason, "ingest failed: line 4") {
		t.Errorf("BAD: %+v", bad)
	}
	if tot := res.Totals; tot.Tickers != 5 || tot.Completed != 4 || tot.Failed != 1 || tot.BeatNaive != 1 || tot.Reasons["ingest failed"] != 1 {
		t.Errorf("totals %+v", tot)
	}
	if res.Outcomes[0].MASE != 1.01 || res.Outcomes[0].DMP != 0.3 || res.Outcomes[0].Seconds != 240 {
		t.Errorf("AAPL outcome %+v", res.Outcomes[0])
	}
	if len(*reports) != 1 || res.Report == "" || res.Runs != 1 {
		t.Errorf("reports %d, result report %q, runs %d", len(*reports), res.Report, res.Runs)
	}
	if len(progress) != 1 || progress[0].Total != 5 || len(progress[0].Running) != 2 || progress[0].Queued != 3 {
		t.Errorf("progress at 90 s: %+v", progress)
	}
}

// After PerRun children the fleet waits for those running and continues
// as new with the rest; the next run finishes them and reports all.
func TestFleetContinuesAsNewWithItsState(t *testing.T) {
	env, f, _ := fleetEnv(t)
	in := pipeline.FleetInput{Items: items("A", "BB", "BAD", "CCC", "DD"), Parallel: 2, PerRun: 3}
	env.ExecuteWorkflow(pipeline.FleetWorkflow, in)
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) || can.WorkflowType.Name != pipeline.FleetWorkflow {
		t.Fatalf("error %v, want continue-as-new as %s", err, pipeline.FleetWorkflow)
	}
	var next pipeline.FleetInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if len(f.started) != 3 || next.State == nil || len(next.State.Done) != 3 || len(next.State.Queue) != 2 || next.Items != nil || next.State.Runs != 1 {
		t.Fatalf("first run started %v; carried %+v", f.started, next.State)
	}

	env2, f2, reports := fleetEnv(t)
	env2.ExecuteWorkflow(pipeline.FleetWorkflow, next)
	var res pipeline.FleetResult
	if err := env2.GetWorkflowResult(&res); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !slices.Equal(f2.started, []string{"CCC", "DD"}) || len(res.Outcomes) != 5 || res.Runs != 2 || res.Totals.Failed != 1 || len(*reports) != 1 {
		t.Fatalf("second run started %v; result %d outcomes, runs %d, totals %+v", f2.started, len(res.Outcomes), res.Runs, res.Totals)
	}
}

// A prepare fleet sends groups of tickers to one activity each; a group
// whose activity fails lists each of its tickers as failed.
func TestFleetPreparesInGroups(t *testing.T) {
	env, _, _ := fleetEnv(t)
	var groups [][]string
	env.OnActivity(steps.PrepareTickers, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.PrepareInput) (steps.PrepareResult, error) {
			var names []string
			var res steps.PrepareResult
			for _, it := range in.Items {
				names = append(names, it.Ticker)
				res.Outcomes = append(res.Outcomes, pipeline.FleetOutcome{Ticker: it.Ticker, Status: pipeline.FleetCompleted, Rows: 100})
			}
			groups = append(groups, names)
			if slices.Contains(names, "ZZ") {
				return steps.PrepareResult{}, temporal.NewNonRetryableApplicationError("store says no", steps.ErrCorrupt, nil)
			}
			if in.Spec.Lookback != 50 || in.Spec.Fractions.Train != 0.7 {
				t.Errorf("spec %+v, want the training defaults", in.Spec)
			}
			return res, nil
		})
	in := pipeline.FleetInput{Kind: pipeline.FleetPrepare, Items: items("A", "B", "C", "D", "E", "ZZ"), GroupSize: 4, Parallel: 1}
	env.ExecuteWorkflow(pipeline.FleetWorkflow, in)
	var res pipeline.FleetResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || len(groups[0]) != 4 || len(groups[1]) != 2 {
		t.Fatalf("groups %v, want 4 then 2", groups)
	}
	if res.Totals.Completed != 4 || res.Totals.Failed != 2 || !strings.Contains(res.Outcomes[5].Reason, "store says no") {
		t.Fatalf("totals %+v, ZZ %+v", res.Totals, res.Outcomes[5])
	}
}

// A fleet without tickers, or with one twice, is refused at once.
func TestFleetRefusesBadInput(t *testing.T) {
	for name, in := range map[string]pipeline.FleetInput{
		"empty":   {},
		"twice":   {Items: items("NFLX", "nflx")},
		"kind":    {Items: items("NFLX"), Kind: "backtest"},
		"no file": {Items: []pipeline.FleetItem{{Ticker: "NFLX"}}},
	} {
		env, _, _ := fleetEnv(t)
		env.ExecuteWorkflow(pipeline.FleetWorkflow, in)
		var appErr *temporal.ApplicationError
		if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != steps.ErrInvalidParams {
			t.Errorf("%s: %v, want %s", name, err, steps.ErrInvalidParams)
		}
	}
}
