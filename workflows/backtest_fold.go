package workflows

import (
	"fmt"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// runFolds runs a BacktestFold child per planned fold, at most Parallel at
// once, and keeps their results in fold order. When one fails it cancels
// the others, waits for them to end, and fails with that fold's reason.
func (b *backtestRun) runFolds(ctx workflow.Context) error {
	b.progress.Stage = "folds"
	folds := b.plan.Folds
	results := make([]pipeline.BacktestFoldResult, len(folds))
	cctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	next, inflight := 0, 0
	var failed error
	for {
		for inflight < b.in.Parallel && next < len(folds) && failed == nil && ctx.Err() == nil {
			k := next
			fut := b.startFold(cctx, k)
			next, inflight = next+1, inflight+1
			b.progress.Running = append(b.progress.Running, k)
			sel.AddFuture(fut, func(f workflow.Future) {
				inflight--
				b.progress.Running = slices.DeleteFunc(b.progress.Running, func(r int) bool { return r == k })
				if err := f.Get(ctx, &results[k]); err != nil {
					if failed == nil {
						failed = stepFailed(fmt.Sprintf("fold %d", k), err)
						cancel()
					}
					return
				}
				b.progress.Done++
			})
		}
		if inflight == 0 {
			break
		}
		sel.Select(ctx)
	}
	if failed != nil {
		return failed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.out.Folds = results
	return nil
}

// startFold starts fold k's child: its id is the backtest's and the
// fold's, so a fold runs once per backtest whatever happens to workers;
// cancelling the backtest cancels it.
func (b *backtestRun) startFold(ctx workflow.Context, k int) workflow.ChildWorkflowFuture {
	id := pipeline.BacktestFoldID(b.out.BacktestID, k)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          id,
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
	})
	return workflow.ExecuteChildWorkflow(cctx, pipeline.BacktestFoldWorkflow, pipeline.BacktestFoldInput{
		BacktestID: b.out.BacktestID, Ticker: b.ticker, Series: b.plan.Series, Fold: b.plan.Folds[k],
		Lookback: b.in.Lookback, Horizon: b.in.Horizon, Model: b.in.Model, Transform: b.in.Transform,
		Levels: b.in.Levels, HalfLife: b.in.HalfLife, Device: b.in.Device,
	})
}

// BacktestFold is one fold of a Backtest: its windows (the scaler fitted
// on its training rows only), a model trained on them (on the train
// queue, with checkpoints and heartbeats like any training), then its
// forecasts and the baselines' on the fold's test block.
func BacktestFold(ctx workflow.Context, in pipeline.BacktestFoldInput) (pipeline.BacktestFoldResult, error) {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	queue := modelQueue(ctx, in.Device)
	progress, err := followTraining(ctx)
	if err != nil {
		return pipeline.BacktestFoldResult{}, err
	}
	progress.Stage = "data"
	var data steps.BacktestFoldDataResult
	if err := local(ctx, steps.BacktestFoldData, steps.BacktestFoldDataInput{
		Series: in.Series, Fold: in.Fold, Spec: in.Transform, Lookback: in.Lookback, Horizon: in.Horizon,
	}, &data); err != nil {
		return pipeline.BacktestFoldResult{}, stepFailed("fold data", err)
	}
	progress.Stage = "train"
	trained, err := trainModel(ctx, queue, steps.TrainInput{RunID: id, Windows: data.Windows, Params: in.Model})
	if err != nil {
		return pipeline.BacktestFoldResult{}, stepFailed("train", err)
	}
	progress.Stage = "score"
	var scored steps.BacktestScoreResult
	actx := onQueue(ctx, evaluateOptions(queue))
	err = workflow.ExecuteActivity(actx, steps.BacktestScore, steps.BacktestScoreInput{
		Key: pipeline.BacktestForecastsKey(in.BacktestID, in.Fold.Index), Series: in.Series, Fold: in.Fold,
		Weights: trained.Weights, Config: trained.Config, Transform: data.Transform, Windows: data.Windows,
		Horizon: in.Horizon, Levels: in.Levels, HalfLife: in.HalfLife,
	}).Get(ctx, &scored)
	if err != nil {
		return pipeline.BacktestFoldResult{}, stepFailed("score", noWorker("score", queue, workflow.GetActivityOptions(actx).ScheduleToStartTimeout, err))
	}
	progress.Stage = "done"
	return pipeline.BacktestFoldResult{
		Fold: in.Fold, Forecasts: scored.Forecasts, Intervals: scored.Intervals, Epochs: trained.EpochsRun, ResumedFrom: trained.ResumedFrom,
		TrainFirst: data.TrainFirst, TrainLast: data.TrainLast, TestFirst: data.TestFirst, TestLast: data.TestLast,
		Windows:  [3]int{data.Windows.Train.Rows, data.Windows.Val.Rows, data.Windows.Test.Rows},
		TrainMax: data.TrainMax,
	}, nil
}

// followTraining answers the progress query with the fold's stage and the
// epochs its Train step signals, as a training run does, so `starter
// watch <fold id>` follows a fold.
func followTraining(ctx workflow.Context) (*pipeline.Progress, error) {
	p := &pipeline.Progress{}
	if err := workflow.SetQueryHandler(ctx, pipeline.ProgressQuery, func() (pipeline.Progress, error) { return *p, nil }); err != nil {
		return nil, err
	}
	sig := workflow.GetSignalChannel(ctx, pipeline.ProgressSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var got pipeline.Progress
			if !sig.Receive(ctx, &got) {
				return
			}
			got.Stage = p.Stage
			*p = got
		}
	})
	return p, nil
}
