package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// Limits of a ticker workflow's history.
const (
	defaultRunsPerHistory = 20
	defaultIdleTimeout    = 24 * time.Hour
	doneKept              = 50
)

// TickerRetrainer is a ticker's one retraining queue (workflow id
// retrain-<TICKER>, started by signal-with-start). It takes new-data
// signals, drops content it has seen, and runs RetrainingPipeline children
// one at a time in arrival order; files that arrive while one runs are
// retrained together by the next. Its status query answers the queue, the
// running child and the last results. It continues as new every few
// retrains (carrying the queue, so no signal is lost) and ends after a
// long idle spell; the next signal-with-start begins it again.
func TickerRetrainer(ctx workflow.Context, in pipeline.TickerInput) error {
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	in.Ticker = ticker
	q := &tickerQueue{in: in}
	if err := workflow.SetQueryHandler(ctx, pipeline.StatusQuery, q.status); err != nil {
		return err
	}
	sig := workflow.GetSignalChannel(ctx, pipeline.NewDataSignal)
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			var d pipeline.NewData
			sig.Receive(gctx, &d)
			q.add(d, workflow.Now(gctx))
		}
	})
	maxRuns, idle := in.MaxRunsPerHistory, in.IdleTimeout
	if maxRuns <= 0 {
		maxRuns = defaultRunsPerHistory
	}
	if idle <= 0 {
		idle = defaultIdleTimeout
	}
	// Stage: waiting for new data, or retraining; at the end as the
	// pipelines say it (a run that continues as new leaves it to the next).
	ui := startWebUI(ctx, ticker, in.SearchAttributes, map[string]any{memoMode: "retrain queue", memoParams: tickerParamsLabel(in)})
	for runs := 0; ; runs++ {
		ui.setStage("waiting")
		queued, err := workflow.AwaitWithTimeout(ctx, idle, func() bool { return len(q.in.Queue) > 0 })
		if err != nil {
			ui.finish(err)
			return err
		}
		q.drain(ctx, sig)
		if !queued && len(q.in.Queue) == 0 {
			ui.finish(nil)
			return nil // idle: the next signal-with-start begins a new run
		}
		if runs >= maxRuns || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, pipeline.TickerWorkflow, q.in)
		}
		ui.setStage("retraining")
		q.runNext(ctx)
	}
}

// tickerParamsLabel summarizes a ticker workflow's settings for its memo.
func tickerParamsLabel(in pipeline.TickerInput) string {
	device := in.Device
	if device == "" {
		device = "auto"
	}
	return fmt.Sprintf("device %s, %d retrains done before this run, %d queued at its start", device, in.Seq, len(in.Queue))
}

// tickerQueue is the state of a TickerRetrainer: its input, carried across
// continue-as-new, and the retrain in flight.
type tickerQueue struct {
	in      pipeline.TickerInput
	running *pipeline.RunningRetrain
}

func (q *tickerQueue) status() (pipeline.TickerStatus, error) {
	return pipeline.TickerStatus{Ticker: q.in.Ticker, Queue: q.in.Queue, Running: q.running, Done: q.in.Done, Last: q.in.Last, Seq: q.in.Seq}, nil
}

// drain takes every signal already delivered, so none is left behind when
// the workflow ends or continues as new.
func (q *tickerQueue) drain(ctx workflow.Context, sig workflow.ReceiveChannel) {
	for {
		var d pipeline.NewData
		if !sig.ReceiveAsync(&d) {
			return
		}
		q.add(d, workflow.Now(ctx))
	}
}

// add queues d unless its content is queued, running or retrained already;
// a duplicate is recorded as a finished outcome that says so.
func (q *tickerQueue) add(d pipeline.NewData, now time.Time) {
	if where := q.seen(d.Identity()); where != "" {
		q.finish(pipeline.RetrainOutcome{Files: []string{d.Identity()}, Names: []string{d.Name}, Finished: now,
			Error: "duplicate: the same content is " + where})
		return
	}
	q.in.Queue = append(q.in.Queue, d)
}

// seen says where content id (NewData.Identity) already is ("" when new).
func (q *tickerQueue) seen(id string) string {
	for _, d := range q.in.Queue {
		if d.Identity() == id {
			return "queued"
		}
	}
	if q.running != nil {
		for _, d := range q.running.Files {
			if d.Identity() == id {
				return "being retrained by " + q.running.WorkflowID
			}
		}
	}
	for _, o := range q.in.Done {
		if o.WorkflowID == "" || o.Error != "" {
			continue // a drop, or a retrain that failed: the content may come again
		}
		for _, f := range o.Files {
			if f == id {
				return "retrained by " + o.WorkflowID
			}
		}
	}
	return ""
}

// finish records an outcome, keeping at most doneKept: the oldest drop of
// a duplicate goes first, so a burst of repeats cannot push out the
// retrains that tell what content was seen.
func (q *tickerQueue) finish(o pipeline.RetrainOutcome) {
	q.in.Done = append(q.in.Done, o)
	if len(q.in.Done) <= doneKept {
		return
	}
	drop := 0
	for i, d := range q.in.Done {
		if d.WorkflowID == "" {
			drop = i
			break
		}
	}
	q.in.Done = append(q.in.Done[:drop:drop], q.in.Done[drop+1:]...)
}

// runNext retrains everything queued as one batch, with the options of its
// newest file that set any.
func (q *tickerQueue) runNext(ctx workflow.Context) {
	batch := q.in.Queue
	q.in.Queue = nil
	q.in.Seq++
	id := batchWorkflowID(q.in.Ticker, batch)
	q.running = &pipeline.RunningRetrain{WorkflowID: id, Files: batch, Started: workflow.Now(ctx).UTC()}
	in := pipeline.RetrainingInput{Ticker: q.in.Ticker, Files: batch, Device: q.in.Device, SearchAttributes: q.in.SearchAttributes}
	for _, d := range batch {
		if d.Options != (pipeline.RetrainOptions{}) {
			in.Options = d.Options
		}
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: id, WaitForCancellation: true})
	var res pipeline.RetrainingResult
	err := workflow.ExecuteChildWorkflow(cctx, pipeline.RetrainingWorkflow, in).Get(ctx, &res)
	o := pipeline.RetrainOutcome{WorkflowID: id, Finished: workflow.Now(ctx).UTC(), Version: res.ModelVersion, Mode: res.Mode, Promoted: res.Promotion.Promoted}
	for _, d := range batch {
		o.Files, o.Names = append(o.Files, d.Identity()), append(o.Names, d.Name)
	}
	if err != nil {
		o.Error = rootMessage(err)
	} else {
		q.in.Last = &res
	}
	q.running = nil
	q.finish(o)
}

// batchWorkflowID names a retrain by its ticker and content, so it is
// stable across replays and never collides with another batch's record.
func batchWorkflowID(ticker string, batch []pipeline.NewData) string {
	h := sha256.New()
	for _, d := range batch {
		h.Write([]byte(d.Identity()))
	}
	return fmt.Sprintf("%s-%s", pipeline.TickerWorkflowID(ticker), hex.EncodeToString(h.Sum(nil))[:12])
}
