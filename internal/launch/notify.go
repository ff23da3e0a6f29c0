package launch

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/steps"
)

// Reasons recorded in the registry history when a person gives none.
const (
	DefaultPromoteReason  = "promoted by hand"
	DefaultRollbackReason = "rolled back by hand"
)

// notifyStartTimeout bounds the start of a rollback's Notification.
const notifyStartTimeout = 15 * time.Second

// WorkflowStarter is what NotifyRollback needs of a Temporal client.
type WorkflowStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow interface{}, args ...interface{}) (client.WorkflowRun, error)
}

// NotifyRollback hands the rollback that m's last alias move records to a
// Notification workflow on the workers' queue, which e-mails and posts it
// as the pipelines' own events are (with the same retries). by says who
// rolled back ("starter rollback", "API rollback"). Its workflow id is
// the ticker and the move's place in the alias history, so queueing it
// again for the same rollback (from the starter or the API) queues nothing
// new. It returns the id.
func NotifyRollback(ctx context.Context, c WorkflowStarter, taskQueue, by, ticker string, m registry.Manifest) (string, error) {
	if len(m.History) == 0 {
		return "", fmt.Errorf("no alias move to notify")
	}
	move := m.History[len(m.History)-1]
	id := fmt.Sprintf("rollback-%s-%d", ticker, len(m.History))
	run := fmt.Sprintf("move-%d", len(m.History))
	ev := notify.Event{
		ID: notify.EventID(id, run, notify.KindRolledBack, ""), Kind: notify.KindRolledBack, Time: move.At.UTC(),
		Workflow: by, WorkflowID: id, RunID: run, Ticker: ticker,
		ModelVersion: move.Version, PreviousVersion: move.Previous, Alias: move.Alias, Forced: move.Forced, Reason: move.Reason,
	}
	sctx, cancel := context.WithTimeout(ctx, notifyStartTimeout)
	defer cancel()
	_, err := c.ExecuteWorkflow(sctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, pipeline.NotifyWorkflow, steps.NotifyInput{Event: ev})
	if err != nil {
		return id, fmt.Errorf("start %s: %w", id, err)
	}
	return id, nil
}
