package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/steps"
)

// notifyRollback hands the rollback that m's last alias move records to a
// Notification workflow on the workers' queue, which e-mails and posts it
// as the pipelines' own events are (with the same retries). Its workflow
// id is the ticker and the move's place in the alias history, so running
// it again for the same rollback queues nothing new. It returns the id.
func notifyRollback(ctx context.Context, cfg config.Config, ticker string, m registry.Manifest) (string, error) {
	if len(m.History) == 0 {
		return "", fmt.Errorf("no alias move to notify")
	}
	move := m.History[len(m.History)-1]
	id := fmt.Sprintf("rollback-%s-%d", ticker, len(m.History))
	run := fmt.Sprintf("move-%d", len(m.History))
	ev := notify.Event{
		ID: notify.EventID(id, run, notify.KindRolledBack, ""), Kind: notify.KindRolledBack, Time: move.At.UTC(),
		Workflow: "starter rollback", WorkflowID: id, RunID: run, Ticker: ticker,
		ModelVersion: move.Version, PreviousVersion: move.Previous, Alias: move.Alias, Forced: move.Forced, Reason: move.Reason,
	}
	c, err := dial(cfg)
	if err != nil {
		return id, err
	}
	defer c.Close()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err = c.ExecuteWorkflow(sctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue}, pipeline.NotifyWorkflow, steps.NotifyInput{Event: ev})
	if err != nil {
		return id, fmt.Errorf("start %s: %w", id, err)
	}
	return id, nil
}
