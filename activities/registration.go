package activities

import (
	"context"
	"slices"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/finsight/finsight/internal/steps"
)

// step is one activity and the name the pipelines call it by: method is
// the Activities method, fn what is registered (method itself, or method
// through live).
type step struct {
	name       string
	method, fn any
}

// alive is a step registered through live.
func alive[In, Out any](name string, method func(context.Context, In) (Out, error)) step {
	return step{name, method, live(method)}
}

// beating is a step that heartbeats with progress of its own.
func beating(name string, method any) step { return step{name, method, method} }

// all pairs every step with its name in the contract (package steps).
// Steps that heartbeat with progress of their own (training, trials, a
// group of tickers, an inbox scan) are registered as they are; the others
// through live, so that a dead worker is noticed within the step's
// heartbeat timeout.
func (a *Activities) all() []step {
	return []step{
		alive(steps.Ingest, a.Ingest),
		alive(steps.Download, a.Download),
		alive(steps.Split, a.Split),
		alive(steps.Validate, a.Validate),
		alive(steps.Clean, a.Clean),
		alive(steps.Scale, a.Scale),
		alive(steps.Window, a.Window),
		alive(steps.Plot, a.Plot),
		beating(steps.Train, a.Train),
		beating(steps.TrainTrial, a.TrainTrial),
		alive(steps.Evaluate, a.Evaluate),
		alive(steps.Compare, a.Compare),
		alive(steps.Register, a.Register),
		alive(steps.Promote, a.Promote),
		alive(steps.ResolveBase, a.ResolveBase),
		alive(steps.CheckNewData, a.CheckNewData),
		alive(steps.Merge, a.Merge),
		alive(steps.RejectFiles, a.RejectFiles),
		alive(steps.HandOff, a.HandOff),
		beating(steps.ScanInbox, a.ScanInbox), // heartbeats per file itself
		alive(steps.SaveRun, a.SaveRun),
		alive(steps.Report, a.Report),
		alive(steps.Notify, a.Notify),
		alive(steps.ListFleetFiles, a.ListFleetFiles),
		beating(steps.PrepareTickers, a.PrepareTickers),
		alive(steps.FleetReport, a.FleetReport),
		alive(steps.BacktestPlan, a.BacktestPlan),
		alive(steps.BacktestFoldData, a.BacktestFoldData),
		alive(steps.BacktestScore, a.BacktestScore),
		alive(steps.BacktestSummarize, a.BacktestSummarize),
		alive(steps.BacktestReport, a.BacktestReport),
	}
}

// training are the steps a GPU worker serves.
var training = []string{
	steps.Train,
	steps.TrainTrial,
	steps.Evaluate,
	steps.Compare,       // a retrain re-scores its base where it trains
	steps.BacktestScore, // loads a fold's model where it was trained
}

// Register puts every step on a worker under its name in the contract,
// local activities included (the pipelines call those by name too).
func Register(w worker.Registry, acts *Activities) {
	for _, s := range acts.all() {
		w.RegisterActivityWithOptions(s.fn, activity.RegisterOptions{Name: s.name})
	}
}

// RegisterTraining puts only the training steps on a worker: the one
// serving the GPU task queue.
func RegisterTraining(w worker.Registry, acts *Activities) {
	for _, s := range acts.all() {
		if slices.Contains(training, s.name) {
			w.RegisterActivityWithOptions(s.fn, activity.RegisterOptions{Name: s.name})
		}
	}
}
