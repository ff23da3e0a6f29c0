// Package handoff gives new data to a ticker's long-lived TickerRetrainer:
// one signal-with-start, so the workflow is started when it is not running
// and signalled when it is. The starter, the inbox scan and the periodic
// refresh all hand off through here.
package handoff

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/pipeline"
)

// Signaler is what a hand-off needs of a Temporal client.
type Signaler interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID, signalName string, signalArg interface{},
		options client.StartWorkflowOptions, workflow interface{}, workflowArgs ...interface{}) (client.WorkflowRun, error)
}

// Target names the ticker workflow's task queue and what it passes to
// each retrain.
type Target struct {
	TaskQueue        string
	Device           string
	SearchAttributes bool
}

// ToTicker queues d on its ticker's TickerRetrainer (id retrain-<TICKER>),
// starting the workflow if it is not running. It returns the workflow's run
// id. Signalling the same file twice is harmless: the workflow drops a
// file whose content it has queued, is running or has finished.
func ToTicker(ctx context.Context, c Signaler, t Target, ticker string, d pipeline.NewData) (string, error) {
	id := pipeline.TickerWorkflowID(ticker)
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: t.TaskQueue}
	in := pipeline.TickerInput{Ticker: ticker, Device: t.Device, SearchAttributes: t.SearchAttributes}
	run, err := c.SignalWithStartWorkflow(ctx, id, pipeline.NewDataSignal, d, opts, pipeline.TickerWorkflow, in)
	if err != nil {
		return "", fmt.Errorf("hand %s (%s) to %s: %w", d.Name, short(d.SHA256), id, err)
	}
	return run.GetRunID(), nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
