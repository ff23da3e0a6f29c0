package workflows

import (
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/hpo"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// TuneInput is a hyperparameter search over windowed data.
type TuneInput struct {
	Windows steps.Splits         `json:"windows"`
	Base    pipeline.ModelParams `json:"base"` // settings not searched (seed, clipping)
	Spec    pipeline.TuneSpec    `json:"spec"`
	Queue   string               `json:"queue"` // task queue of the trials ("" = the workflow's)
	// GPUWait is how long a trial on the GPU queue waits for a worker
	// (0 = DefaultGPUWait); then the search fails naming the queue.
	GPUWait time.Duration `json:"gpu_wait,omitempty"`
	// Done is the search so far when it continued as new (nil at the start).
	Done *TuneProgress `json:"done,omitempty"`
}

// TuneProgress is what a search carries across continue-as-new: every
// trial ended so far and the sampler's observations.
type TuneProgress struct {
	Trials  []pipeline.Trial  `json:"trials"`
	History []hpo.Observation `json:"history"`
}

// TuneResult records every trial and the best parameters.
type TuneResult struct {
	Trials []pipeline.Trial     `json:"trials"`
	Best   pipeline.ModelParams `json:"best"`
	BestID int                  `json:"best_trial"`
}

// trialsPerRun is how many trials one run of a search launches before it
// continues as new (sooner when the server suggests it), so that a long
// search's history stays far below Temporal's limits.
const trialsPerRun = 50

// Tune samples configurations (random or TPE, seeded), trains each as an
// activity for a few epochs with up to Concurrency trials in flight (they
// spread over every worker on the queue), prunes poor trials with the
// median rule, and returns every trial with the best parameters.
//
// Each trial gets the per-epoch medians of the finished trials' curves
// (hpo.Reference), not the curves. A cancelled search stops launching,
// waits for its running trials to stop, and ends cancelled: it never
// "succeeds" with the trials it happened to finish.
func Tune(ctx workflow.Context, in TuneInput) (TuneResult, error) {
	spec := in.Spec.WithDefaults()
	space := hpo.DefaultSpace()
	sampler, err := hpo.New(spec.Sampler, space, spec.Seed)
	if err != nil {
		return TuneResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	s := newSearch(in)
	mayContinue := workflow.GetVersion(ctx, "tune-continue-as-new", workflow.DefaultVersion, 1) == 1
	pruner := hpo.MedianPruner{Warmup: spec.PrunerWarmup, MinTrials: spec.PrunerMinTrials}
	actx := onQueue(withGPUWait(ctx, in.GPUWait), trialOptions(in.Queue))
	wait := workflow.GetActivityOptions(actx).ScheduleToStartTimeout

	launched := 0 // by this run
	sel := workflow.NewSelector(ctx)
	launch := func() error {
		point, err := sampler.Sample(s.next, s.history)
		if err != nil {
			return temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
		}
		params := paramsAt(in.Base, point, spec.Epochs)
		trial := s.next
		fut := workflow.ExecuteActivity(actx, steps.TrainTrial, steps.TrialInput{
			Trial: trial, Windows: in.Windows, Params: params, Pruner: pruner, Reference: hpo.NewReference(s.curves),
		})
		sel.AddFuture(fut, func(f workflow.Future) {
			s.running--
			var r steps.TrialResult
			err := f.Get(ctx, &r)
			if stuck := noWorker(fmt.Sprintf("trial %d", trial), in.Queue, wait, err); stuck != err && s.stuck == nil {
				s.stuck = stuck // no worker polls the queue: no trial will ever start
			}
			s.ended(pipeline.Trial{ID: trial, Params: params}, point, err, r)
		})
		s.running++
		s.next++
		launched++
		return nil
	}
	pausing := func() bool {
		return mayContinue && (launched >= trialsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested())
	}
	for s.next < spec.Trials || s.running > 0 {
		for ctx.Err() == nil && s.stuck == nil && !pausing() && s.running < spec.Concurrency && s.next < spec.Trials {
			if err := launch(); err != nil {
				return TuneResult{Trials: s.trials}, err
			}
		}
		if s.running == 0 {
			break // cancelled or pausing, nothing in flight
		}
		sel.Select(ctx)
	}
	if ctx.Err() != nil {
		return TuneResult{Trials: finiteTrials(s.trials)}, temporal.NewCanceledError(
			fmt.Sprintf("search cancelled after %d of %d trials", len(s.trials), spec.Trials))
	}
	if s.stuck != nil {
		return TuneResult{Trials: finiteTrials(s.trials)}, s.stuck
	}
	if s.next < spec.Trials {
		in.Done = &TuneProgress{Trials: finiteTrials(s.trials), History: s.history}
		return TuneResult{}, workflow.NewContinueAsNewError(ctx, pipeline.TuneWorkflow, in)
	}
	return s.result(in.Base, spec.Trials)
}

// search is the state of a search: trials ended, the sampler's history,
// the curves of completed (not pruned, not failed) trials.
type search struct {
	trials  []pipeline.Trial
	history []hpo.Observation
	curves  [][]float64
	next    int // the next trial's number
	running int
	stuck   error // a trial found no worker on its queue
}

// newSearch starts a search, or picks up the one in carried.
func newSearch(in TuneInput) *search {
	s := &search{}
	if in.Done == nil {
		return s
	}
	s.trials, s.history = in.Done.Trials, in.Done.History
	s.next = len(s.trials)
	for i, t := range s.trials {
		s.next = max(s.next, t.ID+1)
		if t.Error == "" && !t.Pruned {
			s.curves = append(s.curves, s.trials[i].ValCurve)
		} else if t.Error != "" {
			s.trials[i].Best = math.Inf(1)
		}
	}
	return s
}

// ended records a trial's outcome: err, or its result r.
func (s *search) ended(rec pipeline.Trial, point hpo.Point, err error, r steps.TrialResult) {
	if err != nil {
		rec.Error = err.Error()
		rec.Best = math.Inf(1)
	} else {
		rec.ValCurve, rec.Best, rec.Pruned, rec.Epochs = r.ValCurve, r.Best, r.Pruned, r.Epochs
		if !r.Pruned { // the median rule compares against completed trials
			s.curves = append(s.curves, r.ValCurve)
		}
		s.history = append(s.history, hpo.Observation{Point: point, Value: r.Best, Pruned: r.Pruned, Step: r.Epochs})
	}
	s.trials = append(s.trials, rec)
}

// result picks the best trial of a finished search of n trials.
func (s *search) result(base pipeline.ModelParams, n int) (TuneResult, error) {
	out := TuneResult{Trials: s.trials}
	best, ok := hpo.Best(s.history)
	if !ok {
		return out, temporal.NewNonRetryableApplicationError(fmt.Sprintf("all %d trials failed or were pruned", n), "TuningFailed", nil)
	}
	out.Best = paramsAt(base, best.Point, base.Epochs)
	for _, t := range out.Trials {
		if t.Error == "" && !t.Pruned && t.Best == best.Value {
			out.BestID = t.ID
			break
		}
	}
	out.Trials = finiteTrials(out.Trials)
	return out, nil
}

// finiteTrials zeroes the +Inf best of failed trials: JSON cannot carry it.
func finiteTrials(trials []pipeline.Trial) []pipeline.Trial {
	for i := range trials {
		if math.IsInf(trials[i].Best, 0) {
			trials[i].Best = 0
		}
	}
	return trials
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
