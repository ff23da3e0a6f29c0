package activities

import (
	"context"
	"errors"
	"fmt"
	"math"

	"go.temporal.io/sdk/activity"

	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/model"
)

var errPruned = errors.New("trial pruned")

// TrainTrial trains one candidate configuration for a few epochs, scoring
// validation loss after each, and stops early when the median pruner says
// the trial is worse than the median of finished trials at that epoch.
func (a *Activities) TrainTrial(ctx context.Context, in steps.TrialInput) (steps.TrialResult, error) {
	p := in.Params
	params := model.TrainParams{Epochs: p.Epochs, BatchSize: p.BatchSize, LearningRate: p.LearningRate, ClipNorm: p.ClipNorm}
	if err := params.Validate(); err != nil {
		return steps.TrialResult{}, invalid(steps.ErrInvalidParams, err, "trial %d: %v", in.Trial, err)
	}
	m, train, val, err := a.modelForWindows(ctx, in.Windows, p, fmt.Sprintf("trial %d: ", in.Trial))
	if err != nil {
		return steps.TrialResult{}, err
	}
	defer m.Close()
	hb := startHeartbeat(ctx, 0)
	defer hb.end()
	out := steps.TrialResult{Trial: in.Trial, Params: p, Best: math.Inf(1)}
	_, err = m.Fit(ctx, train, val, model.FitOptions{
		TrainParams: params,
		Stop:        activity.GetWorkerStopChannel(ctx), // a trial has no checkpoint: the next attempt starts it over
		OnBatch: func(pr model.Progress) error {
			hb.set(pr.Epoch)
			return nil
		},
		OnEpoch: func(c *model.Checkpoint) error {
			v := c.Curve[len(c.Curve)-1].ValLoss
			out.ValCurve = append(out.ValCurve, v)
			out.Best = math.Min(out.Best, v)
			out.Epochs = c.Epoch
			if in.Pruner.ShouldPruneAt(c.Epoch, out.Best, in.Reference) { // Optuna: this trial's best so far vs the others at this epoch
				return errPruned
			}
			return nil
		},
	})
	switch {
	case errors.Is(err, errPruned):
		out.Pruned = true
	case errors.Is(err, model.ErrStopped), errors.Is(err, context.Canceled):
		return steps.TrialResult{}, trainFailed(err)
	case errors.Is(err, model.ErrDiverged):
		return steps.TrialResult{}, diverged(err, fmt.Sprintf("trial %d: ", in.Trial))
	case err != nil:
		return steps.TrialResult{}, fmt.Errorf("trial %d: %w", in.Trial, err)
	}
	return out, nil
}
