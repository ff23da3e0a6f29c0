package workflows

import (
	"fmt"
	"math"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/hpo"
	"github.com/finsight/finsight/internal/pipeline"
)

// TuneInput is a hyperparameter search over windowed data.
type TuneInput struct {
	Windows activities.Splits    `json:"windows"`
	Base    pipeline.ModelParams `json:"base"` // settings not searched (seed, clipping)
	Spec    pipeline.TuneSpec    `json:"spec"`
	Queue   string               `json:"queue"` // task queue of the trials ("" = the workflow's)
}

// TuneResult records every trial and the best parameters.
type TuneResult struct {
	Trials []pipeline.Trial     `json:"trials"`
	Best   pipeline.ModelParams `json:"best"`
	BestID int                  `json:"best_trial"`
}

// Tune samples configurations (random or TPE, seeded), trains each as an
// activity for a few epochs with up to Concurrency trials in flight (they
// spread over every worker on the queue), prunes poor trials with the
// median rule, and returns every trial with the best parameters.
func Tune(ctx workflow.Context, in TuneInput) (TuneResult, error) {
	spec := in.Spec.WithDefaults()
	space := hpo.DefaultSpace()
	sampler, err := hpo.New(spec.Sampler, space, spec.Seed)
	if err != nil {
		return TuneResult{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidParams, err)
	}
	pruner := hpo.MedianPruner{Warmup: spec.PrunerWarmup, MinTrials: spec.PrunerMinTrials}
	actx := workflow.WithActivityOptions(ctx, trialOptions(in.Queue))
	var a *activities.Activities

	var (
		history []hpo.Observation
		curves  [][]float64
		out     TuneResult
		running int
		next    int
	)
	sel := workflow.NewSelector(ctx)
	launch := func() error {
		point, err := sampler.Sample(next, history)
		if err != nil {
			return temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidParams, err)
		}
		params := paramsAt(in.Base, point, spec.Epochs)
		trial := next
		fut := workflow.ExecuteActivity(actx, a.TrainTrial, activities.TrialInput{
			Trial: trial, Windows: in.Windows, Params: params, Pruner: pruner, Reference: curves,
		})
		sel.AddFuture(fut, func(f workflow.Future) {
			running--
			var r activities.TrialResult
			rec := pipeline.Trial{ID: trial, Params: params}
			if err := f.Get(ctx, &r); err != nil {
				rec.Error = err.Error()
				rec.Best = math.Inf(1)
			} else {
				rec.ValCurve, rec.Best, rec.Pruned, rec.Epochs = r.ValCurve, r.Best, r.Pruned, r.Epochs
				if !r.Pruned { // the median rule compares against completed trials
					curves = append(curves, r.ValCurve)
				}
				history = append(history, hpo.Observation{Point: point, Value: r.Best, Pruned: r.Pruned, Step: r.Epochs})
			}
			out.Trials = append(out.Trials, rec)
		})
		running++
		next++
		return nil
	}
	for next < spec.Trials || running > 0 {
		for running < spec.Concurrency && next < spec.Trials {
			if err := launch(); err != nil {
				return out, err
			}
		}
		sel.Select(ctx)
	}
	best, ok := hpo.Best(history)
	if !ok {
		return out, temporal.NewNonRetryableApplicationError(fmt.Sprintf("all %d trials failed or were pruned", spec.Trials), "TuningFailed", nil)
	}
	out.Best = paramsAt(in.Base, best.Point, in.Base.Epochs)
	for _, t := range out.Trials {
		if t.Error == "" && !t.Pruned && t.Best == best.Value {
			out.BestID = t.ID
			break
		}
	}
	for i := range out.Trials { // JSON cannot carry +Inf
		if math.IsInf(out.Trials[i].Best, 0) {
			out.Trials[i].Best = 0
		}
	}
	return out, nil
}

// paramsAt applies a sampled point to the base settings.
func paramsAt(base pipeline.ModelParams, p hpo.Point, epochs int) pipeline.ModelParams {
	out := base
	out.Epochs = epochs
	if v, ok := p["units"]; ok {
		out.Units = int(math.Round(v))
	}
	if v, ok := p["layers"]; ok {
		out.Layers = int(math.Round(v))
	}
	if v, ok := p["dropout"]; ok {
		out.Dropout = v
	}
	if v, ok := p["learning_rate"]; ok {
		out.LearningRate = v
	}
	if v, ok := p["batch_size"]; ok {
		out.BatchSize = int(math.Round(v))
	}
	return out
}
