package workflows

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// gateBacktest mocks the Backtest child: it records its id and input in
// inputs["Backtest"] and its place among the steps in order, and answers
// res or err.
func gateBacktest(env *testsuite.TestWorkflowEnvironment, order *[]string, inputs map[string]any, res pipeline.BacktestResult, err error) {
	env.RegisterWorkflowWithOptions(Backtest, workflow.RegisterOptions{Name: pipeline.BacktestWorkflow})
	env.OnWorkflow(pipeline.BacktestWorkflow, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in pipeline.BacktestInput) (pipeline.BacktestResult, error) {
			*order = append(*order, "Backtest")
			inputs["Backtest"], inputs["BacktestID"] = in, workflow.GetInfo(ctx).WorkflowExecution.ID
			return res, err
		})
}

// lstmAndNaive is a backtest summary where the model beat naive.
func lstmAndNaive(id string) pipeline.BacktestResult {
	return pipeline.BacktestResult{BacktestID: id, SummaryURI: "file:///backtests/" + id + "/summary.json", Summary: []backtest.ModelSummary{
		{Model: pipeline.ModelLSTM, Folds: 3, BeatNaive: 2, PooledN: 300, PooledDMStat: -2.5, PooledDMPValue: 0.012},
		{Model: "naive", Folds: 3, PooledN: 300, PooledDMStat: metrics.Maybe(math.NaN()), PooledDMPValue: metrics.Maybe(math.NaN())},
	}}
}

// With --gate backtest the run backtests the CSV it downloaded, with the
// tuned params, in a child <run id>-backtest after evaluate and before
// register, and Promote gets the model's pooled evidence, gate and alpha.
func TestBacktestGateRunsTheBacktestBeforeRegister(t *testing.T) {
	env, order, inputs := mockedPipeline(t, "", nil)
	env.OnActivity(steps.Download, mock.Anything, mock.Anything).Return(steps.DownloadResult{CSVKey: "uploads/downloaded.csv"}, nil)
	tuned := pipeline.ModelParams{Layers: 1, Units: 9, Epochs: 2, BatchSize: 16, LearningRate: 0.01, Seed: 3}
	env.RegisterWorkflow(Tune)
	gateBacktest(env, order, inputs, lstmAndNaive("gate-run-backtest"), nil)
	env.OnWorkflow(pipeline.TuneWorkflow, mock.Anything, mock.Anything).Return(TuneResult{Best: tuned, BestID: 1}, nil)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "gate-run"})
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", Download: &pipeline.DownloadSpec{Start: "2020-01-01", End: "2024-01-01"},
		Lookback: 20, Tune: pipeline.TuneSpec{Trials: 2}, Gate: pipeline.GateBacktest, Alpha: 0.02, BacktestFolds: 3})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(*order, "Backtest"); i < 0 || (*order)[i-1] != "Evaluate" || (*order)[i+1] != "Register" {
		t.Fatalf("steps ran %v, want the backtest between Evaluate and Register", *order)
	}
	in := inputs["Backtest"].(pipeline.BacktestInput)
	if inputs["BacktestID"] != "gate-run-backtest" || in.CSVKey != "uploads/downloaded.csv" || in.Model != tuned ||
		in.Spec.Folds != 3 || in.Lookback != 20 || in.Ticker != "NFLX" {
		t.Fatalf("backtest %v ran with %+v: want the run's downloaded CSV, tuned params, lookback and 3 folds", inputs["BacktestID"], in)
	}
	promote := inputs["Promote"].(steps.PromoteInput)
	ev := promote.Backtest
	if promote.Gate != pipeline.GateBacktest || promote.Alpha != 0.02 || ev == nil ||
		ev.DMStat != -2.5 || ev.DMPValue != 0.012 || ev.PooledN != 300 || ev.Folds != 3 || ev.BacktestID != "gate-run-backtest" {
		t.Fatalf("Promote got gate %q alpha %v evidence %+v: want the lstm's pooled DM", promote.Gate, promote.Alpha, ev)
	}
	saved := inputs["SaveRun"].([]runs.Record)
	if a := saved[len(saved)-1].Artifacts; a["backtest_summary.json"] != "file:///backtests/gate-run-backtest/summary.json" {
		t.Fatalf("run artifacts %v do not list the backtest summary", a)
	}
}

// Without the gate no backtest child runs.
func TestSplitGateRunsNoBacktest(t *testing.T) {
	env, order, inputs := mockedPipeline(t, "", nil)
	gateBacktest(env, order, inputs, lstmAndNaive("x"), nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(*order, "Backtest") {
		t.Fatalf("steps ran %v: a backtest without the backtest gate", *order)
	}
	if p := inputs["Promote"].(steps.PromoteInput); p.Gate != "" || p.Backtest != nil {
		t.Fatalf("Promote got gate %q evidence %+v, want the split gate", p.Gate, p.Backtest)
	}
}

// A backtest that fails, or that has no model to judge, fails the run
// before anything is registered, with the child's reason.
func TestFailedGateBacktestFailsTheRunBeforeRegister(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  pipeline.BacktestResult
		err  error
		says string
	}{
		{"child failed", pipeline.BacktestResult{},
			temporal.NewNonRetryableApplicationError("fold 2 failed: train failed: loss is NaN", steps.ErrInvalidData, nil),
			"backtest failed: fold 2 failed: train failed: loss is NaN"},
		{"no model in the summary", pipeline.BacktestResult{BacktestID: "b", Summary: []backtest.ModelSummary{{Model: "naive"}}}, nil,
			"backtest failed: backtest b has no lstm model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, order, inputs := mockedPipeline(t, "", nil)
			gateBacktest(env, order, inputs, tc.res, tc.err)
			env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv", Gate: pipeline.GateBacktest})
			err := env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			if err == nil || !strings.Contains(err.Error(), tc.says) || !errors.As(err, &appErr) || appErr.Type() != steps.ErrInvalidData {
				t.Fatalf("workflow error %v, want an InvalidData error saying %q", err, tc.says)
			}
			if slices.Contains(*order, "Register") || slices.Contains(*order, "Promote") {
				t.Fatalf("steps ran %v: registered after a failed backtest", *order)
			}
			saved := inputs["SaveRun"].([]runs.Record)
			if last := saved[len(saved)-1]; last.Status != runs.StatusFailed || last.Stage != "backtest" {
				t.Fatalf("run record status %q stage %q, want failed at backtest", last.Status, last.Stage)
			}
		})
	}
}
