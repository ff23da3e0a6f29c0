package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
)

// The step bodies training and retraining share: one activity call each,
// with the step's options, returning the contract types.

// local runs a millisecond step as a local activity (transformOptions).
func local(ctx workflow.Context, fn, in, out any) error {
	lctx := workflow.WithLocalActivityOptions(ctx, transformOptions())
	return workflow.ExecuteLocalActivity(lctx, fn, in).Get(ctx, out)
}

// cleaningCounts sums what cleaning changed across the splits.
func cleaningCounts(c activities.CleanResult) (filled, dropped, outliers int) {
	for _, r := range c.Reports {
		filled += r.Filled + r.Interpolated
		dropped += r.DroppedRows
		outliers += len(r.Outliers)
	}
	return filled, dropped, outliers
}

// windowSplits cuts every cleaned split into model windows and records them.
func windowSplits(ctx workflow.Context, t *tracker, transform blob.Ref, cleaned activities.Splits, lookback int) (activities.Splits, error) {
	var a *activities.Activities
	var windows activities.Splits
	if err := local(ctx, a.Window, activities.WindowInput{Transform: transform, Splits: cleaned, Lookback: lookback}, &windows); err != nil {
		return windows, err
	}
	t.rec.Data.Windows = [3]blob.Ref{windows.Train, windows.Val, windows.Test}
	return windows, nil
}

// trainModel runs the train activity on the training queue.
func trainModel(ctx workflow.Context, queue string, in activities.TrainInput) (activities.TrainResult, error) {
	var a *activities.Activities
	var out activities.TrainResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, trainOptions(queue)), a.Train, in).Get(ctx, &out)
	return out, err
}

// evaluateModel scores a trained model on the test windows beside naive.
func evaluateModel(ctx workflow.Context, queue string, in activities.EvaluateInput) (activities.EvaluateResult, error) {
	var a *activities.Activities
	var out activities.EvaluateResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, evaluateOptions(queue)), a.Evaluate, in).Get(ctx, &out)
	return out, err
}

// registerModel saves the model as the ticker's next version.
func registerModel(ctx workflow.Context, in activities.RegisterInput) (activities.RegisterResult, error) {
	var a *activities.Activities
	var out activities.RegisterResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), a.Register, in).Get(ctx, &out)
	return out, err
}

// promoteModel runs the promotion gate and records its decision.
func promoteModel(ctx workflow.Context, t *tracker, in activities.PromoteInput) (pipeline.Promotion, error) {
	var a *activities.Activities
	var gate pipeline.Promotion
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), a.Promote, in).Get(ctx, &gate); err != nil {
		return pipeline.Promotion{}, err
	}
	t.rec.Promotion = &runs.Promotion{Version: in.Version, Alias: gate.Alias, Promoted: gate.Promoted, Forced: gate.Forced, Reason: gate.Reason}
	return gate, nil
}
