package activities

import (
	"slices"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/finsight/finsight/internal/steps"
)

// step is one activity and the name the pipelines call it by.
type step struct {
	name string
	fn   any
}

// all pairs every step with its name in the contract (package steps).
func (a *Activities) all() []step {
	return []step{
		{steps.Ingest, a.Ingest},
		{steps.Download, a.Download},
		{steps.Split, a.Split},
		{steps.Validate, a.Validate},
		{steps.Clean, a.Clean},
		{steps.Scale, a.Scale},
		{steps.Window, a.Window},
		{steps.Plot, a.Plot},
		{steps.Train, a.Train},
		{steps.TrainTrial, a.TrainTrial},
		{steps.Evaluate, a.Evaluate},
		{steps.Compare, a.Compare},
		{steps.Register, a.Register},
		{steps.Promote, a.Promote},
		{steps.ResolveBase, a.ResolveBase},
		{steps.CheckNewData, a.CheckNewData},
		{steps.Merge, a.Merge},
		{steps.RejectFiles, a.RejectFiles},
		{steps.HandOff, a.HandOff},
		{steps.ScanInbox, a.ScanInbox},
		{steps.SaveRun, a.SaveRun},
		{steps.Report, a.Report},
		{steps.Notify, a.Notify},
	}
}

// training are the steps a GPU worker serves.
var training = []string{
	steps.Train,
	steps.TrainTrial,
	steps.Evaluate,
	steps.Compare, // a retrain re-scores its base where it trains
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
