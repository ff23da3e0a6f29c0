package activities

import (
	"context"
	"errors"
	"fmt"
	"math"

	"go.temporal.io/sdk/activity"

	"github.com/finsight/finsight/internal/hpo"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/model"
)

// TrialInput is one hyperparameter trial.
type TrialInput struct {
	Trial   int                  `json:"trial"`
	Windows Splits               `json:"windows"`
	Params  pipeline.ModelParams `json:"params"`
	Pruner  hpo.MedianPruner     `json:"pruner"`
	// Reference summarises the validation-loss curves of trials already
	// finished (per-epoch medians and counts); the median pruner compares
	// this trial against it after every epoch.
	Reference hpo.Reference `json:"reference"`
}

// TrialResult is what one trial reached.
type TrialResult struct {
	Trial    int                  `json:"trial"`
	Params   pipeline.ModelParams `json:"params"`
	ValCurve []float64            `json:"val_curve"` // validation loss per epoch
	Best     float64              `json:"best"`      // lowest validation loss
	Pruned   bool                 `json:"pruned"`
	Epochs   int                  `json:"epochs"` // epochs run
}

var errPruned = errors.New("trial pruned")

// TrainTrial trains one candidate configuration for a few epochs, scoring
// validation loss after each, and stops early when the median pruner says
// the trial is worse than the median of finished trials at that epoch.
func (a *Activities) TrainTrial(ctx context.Context, in TrialInput) (TrialResult, error) {
	p := in.Params
	params := model.TrainParams{Epochs: p.Epochs, BatchSize: p.BatchSize, LearningRate: p.LearningRate, ClipNorm: p.ClipNorm}
	if err := params.Validate(); err != nil {
		return TrialResult{}, invalid(ErrInvalidParams, err, "trial %d: %v", in.Trial, err)
	}
	m, train, val, err := a.modelForWindows(ctx, in.Windows, p, fmt.Sprintf("trial %d: ", in.Trial))
	if err != nil {
		return TrialResult{}, err
	}
	defer m.Close()
	hb := startHeartbeat(ctx, 0)
	defer hb.end()
	out := TrialResult{Trial: in.Trial, Params: p, Best: math.Inf(1)}
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
		return TrialResult{}, trainFailed(err)
	case errors.Is(err, model.ErrDiverged):
		return TrialResult{}, diverged(err, fmt.Sprintf("trial %d: ", in.Trial))
	case err != nil:
		return TrialResult{}, fmt.Errorf("trial %d: %w", in.Trial, err)
	}
	return out, nil
}
