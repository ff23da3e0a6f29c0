package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
)

// Register puts every workflow on a worker. The activities they call by
// name (package steps) are registered by package activities
// (activities.Register).
func Register(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(TrainingPipeline, workflow.RegisterOptions{Name: pipeline.TrainingWorkflow})
	w.RegisterWorkflowWithOptions(ValidateData, workflow.RegisterOptions{Name: pipeline.ValidateWorkflow})
	w.RegisterWorkflowWithOptions(Tune, workflow.RegisterOptions{Name: pipeline.TuneWorkflow})
	w.RegisterWorkflowWithOptions(RetrainingPipeline, workflow.RegisterOptions{Name: pipeline.RetrainingWorkflow})
	w.RegisterWorkflowWithOptions(TickerRetrainer, workflow.RegisterOptions{Name: pipeline.TickerWorkflow})
	w.RegisterWorkflowWithOptions(InboxScan, workflow.RegisterOptions{Name: pipeline.InboxWorkflow})
	w.RegisterWorkflowWithOptions(RefreshTicker, workflow.RegisterOptions{Name: pipeline.RefreshWorkflow})
	w.RegisterWorkflowWithOptions(Notification, workflow.RegisterOptions{Name: pipeline.NotifyWorkflow})
	w.RegisterWorkflowWithOptions(FleetPipeline, workflow.RegisterOptions{Name: pipeline.FleetWorkflow})
	w.RegisterWorkflowWithOptions(Backtest, workflow.RegisterOptions{Name: pipeline.BacktestWorkflow})
	w.RegisterWorkflowWithOptions(BacktestFold, workflow.RegisterOptions{Name: pipeline.BacktestFoldWorkflow})
}
