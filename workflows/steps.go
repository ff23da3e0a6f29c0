package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// The step bodies training and retraining share: one activity call each,
// with the step's options, returning the contract types.

// local runs a millisecond step as a local activity (transformOptions).
func local(ctx workflow.Context, name string, in, out any) error {
	lctx := workflow.WithLocalActivityOptions(ctx, transformOptions())
	return workflow.ExecuteLocalActivity(lctx, name, in).Get(ctx, out)
}

// cleaningCounts sums what cleaning changed across the splits.
func cleaningCounts(c steps.CleanResult) (filled, dropped, outliers int) {
	for _, r := range c.Reports {
		filled += r.Filled + r.Interpolated
		dropped += r.DroppedRows
		outliers += len(r.Outliers)
	}
	return filled, dropped, outliers
}

// windowSplits cuts every cleaned split into model windows and records them.
func windowSplits(ctx workflow.Context, t *tracker, transform blob.Ref, cleaned steps.Splits, lookback int) (steps.Splits, error) {
	var windows steps.Splits
	if err := local(ctx, steps.Window, steps.WindowInput{Transform: transform, Splits: cleaned, Lookback: lookback}, &windows); err != nil {
		return windows, err
	}
	t.rec.Data.Windows = [3]blob.Ref{windows.Train, windows.Val, windows.Test}
	return windows, nil
}

// ErrNoGPUWorker is the error type of a run that asked for CUDA when no
// worker polled the GPU task queue within its wait (DefaultGPUWait or
// TrainingInput.GPUWait). It is not retryable: nothing changes until someone
// starts a GPU worker.
const ErrNoGPUWorker = "NoGPUWorker"

// onQueue applies opts with the wait for a worker that ctx carries (see
// withGPUWait) when opts send the step to the GPU queue.
func onQueue(ctx workflow.Context, opts workflow.ActivityOptions) workflow.Context {
	opts.ScheduleToStartTimeout = queueWait(opts.TaskQueue, gpuWait(ctx))
	return workflow.WithActivityOptions(ctx, opts)
}

// noWorker turns a schedule-to-start timeout of step on queue, after
// waiting wait, into a failure that names the queue and says what to do;
// any other error comes back as it is.
func noWorker(step, queue string, wait time.Duration, err error) error {
	var timeout *temporal.TimeoutError
	if !errors.As(err, &timeout) || timeout.TimeoutType() != enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START {
		return err
	}
	msg := fmt.Sprintf("%s failed: no worker polled task queue %s for %s", step, queue, wait)
	if queue == config.GPUTaskQueue {
		msg += ": start a worker with --device cuda (FINSIGHT_DEVICE=cuda), or run with --run-device auto"
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrNoGPUWorker, err)
}

// trainModel runs the train activity on the training queue.
func trainModel(ctx workflow.Context, queue string, in steps.TrainInput) (steps.TrainResult, error) {
	var out steps.TrainResult
	actx := onQueue(ctx, trainOptions(queue))
	err := workflow.ExecuteActivity(actx, steps.Train, in).Get(ctx, &out)
	return out, noWorker("train", queue, workflow.GetActivityOptions(actx).ScheduleToStartTimeout, err)
}

// evaluateModel scores a trained model on the test windows beside naive.
func evaluateModel(ctx workflow.Context, queue string, in steps.EvaluateInput) (steps.EvaluateResult, error) {
	var out steps.EvaluateResult
	actx := onQueue(ctx, evaluateOptions(queue))
	err := workflow.ExecuteActivity(actx, steps.Evaluate, in).Get(ctx, &out)
	return out, noWorker("evaluate", queue, workflow.GetActivityOptions(actx).ScheduleToStartTimeout, err)
}

// registerModel saves the model as the ticker's next version.
func registerModel(ctx workflow.Context, in steps.RegisterInput) (steps.RegisterResult, error) {
	var out steps.RegisterResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.Register, in).Get(ctx, &out)
	return out, err
}

// promoteModel runs the promotion gate and records its decision.
func promoteModel(ctx workflow.Context, t *tracker, in steps.PromoteInput) (pipeline.Promotion, error) {
	var gate pipeline.Promotion
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.Promote, in).Get(ctx, &gate); err != nil {
		return pipeline.Promotion{}, err
	}
	t.rec.Promotion = runs.NewPromotion(in.Version, gate)
	return gate, nil
}
