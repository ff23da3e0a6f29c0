package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/pipeline"
)

// waitIdle retries query errors, does not count dropped duplicates, waits
// for the queue to drain and returns the newest finished retrain.
func TestWaitIdleWaitsForTheQueueAndSkipsDuplicates(t *testing.T) {
	dup := pipeline.RetrainOutcome{Files: []string{"a"}, Error: "duplicate: the same content is queued"}
	first := pipeline.RetrainOutcome{WorkflowID: "retrain-X-1", Files: []string{"a"}, Version: 2}
	second := pipeline.RetrainOutcome{WorkflowID: "retrain-X-2", Files: []string{"b", "c"}, Version: 3}
	answers := []struct {
		st  pipeline.TickerStatus
		err error
	}{
		{err: errors.New("workflow not found")},
		{st: pipeline.TickerStatus{Done: []pipeline.RetrainOutcome{dup}, Running: &pipeline.RunningRetrain{WorkflowID: "retrain-X-1"}}},
		{st: pipeline.TickerStatus{Done: []pipeline.RetrainOutcome{dup, first}, Queue: []pipeline.NewData{{SHA256: "b"}}}},
		{st: pipeline.TickerStatus{Done: []pipeline.RetrainOutcome{dup, first, second}}},
	}
	calls := 0
	status := func(context.Context) (pipeline.TickerStatus, error) {
		a := answers[min(calls, len(answers)-1)]
		calls++
		return a.st, a.err
	}
	got, err := waitIdle(context.Background(), status, 2, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got.WorkflowID != "retrain-X-2" || calls != 4 {
		t.Fatalf("got %+v after %d queries, want retrain-X-2 after 4", got, calls)
	}
}

func TestWaitIdleGivesUpWithTheLastError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	status := func(context.Context) (pipeline.TickerStatus, error) {
		return pipeline.TickerStatus{}, errors.New("no worker")
	}
	if _, err := waitIdle(ctx, status, 1, time.Millisecond); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the deadline with the last error", err)
	}
}
