package workflows

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/pipeline"
)

// Register puts every workflow and activity on a worker.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(TrainingPipeline, workflow.RegisterOptions{Name: pipeline.TrainingWorkflow})
	w.RegisterWorkflowWithOptions(ValidateData, workflow.RegisterOptions{Name: pipeline.ValidateWorkflow})
	w.RegisterWorkflowWithOptions(Tune, workflow.RegisterOptions{Name: pipeline.TuneWorkflow})
	w.RegisterWorkflowWithOptions(RetrainingPipeline, workflow.RegisterOptions{Name: pipeline.RetrainingWorkflow})
	w.RegisterWorkflowWithOptions(TickerRetrainer, workflow.RegisterOptions{Name: pipeline.TickerWorkflow})
	w.RegisterWorkflowWithOptions(InboxScan, workflow.RegisterOptions{Name: pipeline.InboxWorkflow})
	w.RegisterWorkflowWithOptions(RefreshTicker, workflow.RegisterOptions{Name: pipeline.RefreshWorkflow})
	w.RegisterActivityWithOptions(acts, activity.RegisterOptions{})
}

// RegisterTraining puts only the training activities on a worker: the one
// serving the GPU task queue.
func RegisterTraining(w worker.Registry, acts *activities.Activities) {
	w.RegisterActivityWithOptions(acts.Train, activity.RegisterOptions{Name: "Train"})
	w.RegisterActivityWithOptions(acts.TrainTrial, activity.RegisterOptions{Name: "TrainTrial"})
	w.RegisterActivityWithOptions(acts.Evaluate, activity.RegisterOptions{Name: "Evaluate"})
	w.RegisterActivityWithOptions(acts.Compare, activity.RegisterOptions{Name: "Compare"}) // a retrain re-scores its base where it trains
}
