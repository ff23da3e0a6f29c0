package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// fakeFolds stands in for BacktestFold: fold k takes (5 − k) minutes, so
// later folds finish first, the failing fold fails after a minute, and it
// records how many ran at once and which were cancelled.
type fakeFolds struct {
	running, most int
	ids           []string
	fail          int // fold index that fails; −1: none
	cancelled     []int
}

func (f *fakeFolds) run(ctx workflow.Context, in pipeline.BacktestFoldInput) (pipeline.BacktestFoldResult, error) {
	f.running++
	f.most = max(f.most, f.running)
	f.ids = append(f.ids, workflow.GetInfo(ctx).WorkflowExecution.ID)
	defer func() { f.running-- }()
	if in.Fold.Index == f.fail {
		if err := workflow.Sleep(ctx, time.Minute); err != nil {
			return pipeline.BacktestFoldResult{}, err
		}
		return pipeline.BacktestFoldResult{}, temporal.NewNonRetryableApplicationError("fold data failed: fold 1: training values are constant", steps.ErrInvalidData, nil)
	}
	if err := workflow.Sleep(ctx, time.Duration(5-in.Fold.Index)*time.Minute); err != nil {
		f.cancelled = append(f.cancelled, in.Fold.Index)
		return pipeline.BacktestFoldResult{}, err
	}
	return pipeline.BacktestFoldResult{Fold: in.Fold, TestFirst: fmt.Sprintf("fold-%d", in.Fold.Index),
		Forecasts: blob.Ref{Key: pipeline.BacktestForecastsKey("bt-1", in.Fold.Index)}}, nil
}

// plannedFolds is a plan of n expanding folds over 1000 rows.
func plannedFolds(t *testing.T, n int) []backtest.Fold {
	t.Helper()
	folds, err := backtest.Spec{Folds: n, Lookback: 10}.Plan(1000)
	if err != nil {
		t.Fatal(err)
	}
	return folds
}

func backtestEnv(t *testing.T, f *fakeFolds, folds int) (*testsuite.TestWorkflowEnvironment, *[]steps.BacktestSummarizeInput) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	env.RegisterWorkflowWithOptions(Backtest, workflow.RegisterOptions{Name: pipeline.BacktestWorkflow})
	env.RegisterWorkflowWithOptions(f.run, workflow.RegisterOptions{Name: pipeline.BacktestFoldWorkflow})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "bt-1"})
	raw := blob.Ref{Key: "data/raw/NFLX/abc.arrow", SHA256: "abc", Rows: 1000}
	env.OnActivity(steps.Ingest, mock.Anything, mock.Anything).Return(steps.IngestResult{Raw: raw}, nil)
	env.OnActivity(steps.Split, mock.Anything, mock.Anything).Return(steps.Splits{}, nil)
	env.OnActivity(steps.Validate, mock.Anything, mock.Anything).Return(steps.ValidateResult{}, nil)
	env.OnActivity(steps.Clean, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.CleanInput) (steps.CleanResult, error) {
			if in.Spec.Outliers.Strategy != "flag" || in.Spec.Missing != "ffill" {
				t.Errorf("backtest cleans with %+v: only ffill and flag keep the future out of early folds", in.Spec)
			}
			return steps.CleanResult{}, nil
		})
	env.OnActivity(steps.BacktestPlan, mock.Anything, mock.Anything).Return(
		steps.BacktestPlanResult{Series: blob.Ref{Key: "series", Rows: 1000}, Folds: plannedFolds(t, folds)}, nil)
	var sums []steps.BacktestSummarizeInput
	env.OnActivity(steps.BacktestSummarize, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.BacktestSummarizeInput) (steps.BacktestSummarizeResult, error) {
			sums = append(sums, in)
			return steps.BacktestSummarizeResult{Summary: []backtest.ModelSummary{{Model: "lstm"}, {Model: "naive"}}, SummaryURI: "mem://summary.json"}, nil
		})
	env.OnActivity(steps.BacktestReport, mock.Anything, mock.Anything).Return(steps.BacktestReportResult{ReportURI: "mem://report.html"}, nil)
	return env, &sums
}

// Folds run as children <id>-fold-<k>, at most Parallel at once; they
// finish out of order, yet the result and the summary list them in fold
// order.
func TestBacktestRunsAtMostParallelFoldsInOrder(t *testing.T) {
	f := &fakeFolds{fail: -1}
	env, sums := backtestEnv(t, f, 5)
	var progress pipeline.BacktestProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(pipeline.ProgressQuery)
		if err == nil {
			err = v.Get(&progress)
		}
		if err != nil {
			t.Errorf("progress query: %v", err)
		}
	}, 30*time.Second)
	env.ExecuteWorkflow(pipeline.BacktestWorkflow, pipeline.BacktestInput{Ticker: "nflx", CSVKey: "uploads/x.csv", Parallel: 2,
		Spec: backtest.Spec{Folds: 5}, Model: pipeline.ModelParams{Epochs: 1}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("backtest failed: %v", err)
	}
	var res pipeline.BacktestResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if f.most != 2 || len(f.ids) != 5 {
		t.Fatalf("%d folds at most at once of %d, want 2 of 5", f.most, len(f.ids))
	}
	for k := range 5 {
		if !slices.Contains(f.ids, fmt.Sprintf("bt-1-fold-%d", k)) {
			t.Errorf("fold ids %v, want bt-1-fold-<k>", f.ids)
		}
	}
	var order []string
	for _, fr := range res.Folds {
		order = append(order, fr.TestFirst)
	}
	if strings.Join(order, ",") != "fold-0,fold-1,fold-2,fold-3,fold-4" || len(*sums) != 1 || len((*sums)[0].Folds) != 5 ||
		(*sums)[0].Folds[4].Fold.Index != 4 {
		t.Fatalf("result folds %v, summarize inputs %d", order, len(*sums))
	}
	if res.Ticker != "NFLX" || res.ReportURI != "mem://report.html" || len(res.Summary) != 2 || res.Spec.Lookback != 50 || len(res.Levels) != 2 {
		t.Errorf("result %+v", res)
	}
	if progress.Stage != "folds" || progress.Folds != 5 || len(progress.Running) != 2 {
		t.Errorf("progress at 30 s: %+v", progress)
	}
}

// A failed fold cancels the folds still running, starts no other, and
// fails the backtest with its reason; nothing is summarised.
func TestBacktestFailsWithTheFailedFoldsReason(t *testing.T) {
	f := &fakeFolds{fail: 1}
	env, sums := backtestEnv(t, f, 4)
	env.ExecuteWorkflow(pipeline.BacktestWorkflow, pipeline.BacktestInput{Ticker: "NFLX", CSVKey: "uploads/x.csv", Parallel: 2,
		Spec: backtest.Spec{Folds: 4}, Model: pipeline.ModelParams{Epochs: 1}})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != steps.ErrInvalidData || !strings.Contains(err.Error(), "fold 1 failed") ||
		!strings.Contains(err.Error(), "training values are constant") {
		t.Fatalf("error %v, want InvalidData naming fold 1 and its reason", err)
	}
	if len(f.ids) != 2 || len(f.cancelled) != 1 || f.cancelled[0] != 0 || len(*sums) != 0 {
		t.Fatalf("started %v, cancelled %v, summaries %d: want folds 0 and 1 only, 0 cancelled, none", f.ids, f.cancelled, len(*sums))
	}
}

// Bad parameters fail at once, before any data is read.
func TestBacktestRefusesBadInput(t *testing.T) {
	for name, in := range map[string]pipeline.BacktestInput{
		"mode":        {Ticker: "NFLX", Spec: backtest.Spec{Mode: "random"}},
		"parallel":    {Ticker: "NFLX", Parallel: -1},
		"level":       {Ticker: "NFLX", Levels: []float64{0.8, 1.5}},
		"level twice": {Ticker: "NFLX", Levels: []float64{0.8, 0.8}},
		"ticker":      {Ticker: "NF LX!"},
	} {
		t.Run(name, func(t *testing.T) {
			env, _ := backtestEnv(t, &fakeFolds{fail: -1}, 3)
			env.ExecuteWorkflow(pipeline.BacktestWorkflow, in)
			var appErr *temporal.ApplicationError
			if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != steps.ErrInvalidParams || !appErr.NonRetryable() {
				t.Fatalf("error %v, want a non-retryable InvalidParams", err)
			}
		})
	}
}

// A fold trains on the windows its data step cut, as a run named after the
// fold, on the train queue, and scores into the backtest's forecasts key.
func TestBacktestFoldTrainsAndScoresItsOwnWindows(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	env.RegisterWorkflowWithOptions(BacktestFold, workflow.RegisterOptions{Name: pipeline.BacktestFoldWorkflow})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "bt-1-fold-2"})
	spy := newOptionsSpy()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{spy}})
	fold := plannedFolds(t, 3)[2]
	windows := steps.Splits{Train: blob.Ref{Key: "w-train", Rows: 500}, Val: blob.Ref{Key: "w-val", Rows: 70}, Test: blob.Ref{Key: "w-test", Rows: 250}}
	env.OnActivity(steps.BacktestFoldData, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.BacktestFoldDataInput) (steps.BacktestFoldDataResult, error) {
			if in.Fold != fold || in.Lookback != 10 {
				t.Errorf("fold data for %+v, lookback %d", in.Fold, in.Lookback)
			}
			return steps.BacktestFoldDataResult{Transform: blob.Ref{Key: "t"}, Windows: windows, TestFirst: "2020-01-02"}, nil
		})
	env.OnActivity(steps.Train, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.TrainInput) (steps.TrainResult, error) {
			if in.Windows != windows || in.RunID != "bt-1-fold-2" || in.Params.Epochs != 3 {
				t.Errorf("train input %+v", in)
			}
			r := steps.TrainResult{Weights: blob.Ref{Key: "weights"}}
			r.EpochsRun = 3
			return r, nil
		})
	env.OnActivity(steps.BacktestScore, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.BacktestScoreInput) (steps.BacktestScoreResult, error) {
			if in.Key != pipeline.BacktestForecastsKey("bt-1", 2) || in.Weights.Key != "weights" || in.Windows != windows || in.Transform.Key != "t" {
				t.Errorf("score input %+v", in)
			}
			return steps.BacktestScoreResult{Forecasts: blob.Ref{Key: in.Key, Rows: 250}}, nil
		})
	env.ExecuteWorkflow(pipeline.BacktestFoldWorkflow, pipeline.BacktestFoldInput{BacktestID: "bt-1", Ticker: "NFLX", Fold: fold,
		Lookback: 10, Horizon: 1, Model: pipeline.ModelParams{Epochs: 3}, Levels: []float64{0.8}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("fold failed: %v", err)
	}
	var res pipeline.BacktestFoldResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Fold != fold || res.Epochs != 3 || res.Windows != [3]int{500, 70, 250} || res.TestFirst != "2020-01-02" {
		t.Errorf("result %+v", res)
	}
	var p pipeline.Progress
	if v, err := env.QueryWorkflow(pipeline.ProgressQuery); err != nil || v.Get(&p) != nil || p.Stage != "done" {
		t.Errorf("progress %+v (%v), want stage done", p, err)
	}
	want := config.TrainQueue("default-test-taskqueue") // the test environment's queue
	for _, step := range []string{steps.Train, steps.BacktestScore} {
		if o, ok := spy.of(step); !ok || o.TaskQueue != want {
			t.Errorf("%s scheduled on %q (scheduled: %v), want the train queue %q", step, o.TaskQueue, ok, want)
		}
	}
}
