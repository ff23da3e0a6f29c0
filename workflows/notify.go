package workflows

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// Notifications. A pipeline tells people (package notify: e-mail, webhook)
// when it fails after its step's retries, times out or is cancelled; a
// retrain also when its new data drifts past the threshold and for each
// inbox file it rejects; a run that registers a model, whether it was
// promoted or stays challenger. One event is one message: a step's retries
// are not events, and the Notify step is idempotent per event id.
//
// Each event is delivered by its own Notification workflow, which the
// pipeline starts (from a disconnected context, so a cancelled run still
// notifies) and does not wait for: the delivery's retries (notifyOptions:
// about an hour) never hold up or change the pipeline's result. The run
// record lists each event with its delivery workflow; the delivery writes
// its outcome beside the record (runs.Read shows it).
//
// Rollbacks are not notified here: `starter rollback` changes the registry
// directly, and no workflow sees it.

// notifyChange gates notifications: executions begun before them replay
// their recorded histories without these commands.
const notifyChange = "notify"

// Notification delivers one event: the Notify step under notifyOptions. It
// fails when the event could not be delivered (the Web UI shows it); the
// pipeline that started it has its own result either way.
func Notification(ctx workflow.Context, in steps.NotifyInput) (steps.NotifyResult, error) {
	in.MaxAttempts = notifyAttempts
	var out steps.NotifyResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, notifyOptions()), steps.Notify, in).Get(ctx, &out)
	return out, err
}

// notices sends one run's notifications.
type notices struct {
	on     bool             // this execution notifies (not a replay of an older one)
	ctx    workflow.Context // disconnected from the run's cancellation
	info   *workflow.Info
	ticker string
}

// newNotices prepares the notifications of the run of ticker in ctx.
func newNotices(ctx workflow.Context, ticker string) *notices {
	n := &notices{ticker: ticker, info: workflow.GetInfo(ctx)}
	n.on = workflow.GetVersion(ctx, notifyChange, workflow.DefaultVersion, 1) >= 1
	n.ctx, _ = workflow.NewDisconnectedContext(ctx)
	return n
}

// event is a new event of kind (detail tells apart several of a kind in
// one run).
func (n *notices) event(kind, detail string) notify.Event {
	x := n.info.WorkflowExecution
	return notify.Event{
		ID: notify.EventID(x.ID, x.RunID, kind, detail), Kind: kind, Time: workflow.Now(n.ctx).UTC(),
		Namespace: n.info.Namespace, Workflow: n.info.WorkflowType.Name, WorkflowID: x.ID, RunID: x.RunID,
		StartedAt: n.info.WorkflowStartTime.UTC(), Ticker: n.ticker,
	}
}

// send starts the event's delivery and waits until it has started (not
// until it is delivered). ok is false when this execution does not notify.
func (n *notices) send(ev notify.Event) (rec runs.Notification, ok bool) {
	if n == nil || !n.on {
		return runs.Notification{}, false
	}
	id := notifyWorkflowID(ev)
	cctx := workflow.WithChildOptions(n.ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        id,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON, // the delivery outlives the run
	})
	f := workflow.ExecuteChildWorkflow(cctx, pipeline.NotifyWorkflow, steps.NotifyInput{Event: ev})
	rec = runs.Notification{Event: ev.ID, Kind: ev.Kind, Workflow: id, Status: runs.NotifySending, At: ev.Time}
	if err := f.GetChildWorkflowExecution().Get(n.ctx, nil); err != nil {
		rec.Status, rec.Error = runs.NotifyFailed, "its delivery did not start: "+err.Error()
		workflow.GetLogger(n.ctx).Warn("could not start a notification", "event", ev.ID, "err", err)
	}
	return rec, true
}

// notifyWorkflowID names the delivery of ev: the run's workflow id, the
// kind (and detail), and the run id (a run again under the same id
// notifies again).
func notifyWorkflowID(ev notify.Event) string {
	rest := strings.TrimPrefix(ev.ID, ev.WorkflowID+"/"+ev.RunID+"/") // kind[/detail]
	return ev.WorkflowID + "-notify-" + strings.ReplaceAll(rest, "/", "-") + "-" + ev.RunID
}

// failure is the event of a run that ended with err in step ("" = the one
// err names): failed, timed out or cancelled, with the error's type and
// message.
func (n *notices) failure(err error, step string) notify.Event {
	kind, errType, msg := describeFailure(err)
	if step == "" {
		step = failedStep(msg)
	}
	ev := n.event(kind, "")
	ev.Step, ev.ErrorType, ev.Error = step, errType, clip(sdkDecoration.ReplaceAllString(msg, ""), 4000)
	return ev
}

// sdkDecoration is what the SDK appends to an application error's text
// when a message is built from err.Error(): the type is in the event's own
// field.
var sdkDecoration = regexp.MustCompile(` \(type: [A-Za-z0-9_.]*, retryable: (true|false)\)`)

// describeFailure is the kind of event a run's err is (failed, timed out,
// cancelled), its error type (the application error's, or the timeout's)
// and its message.
func describeFailure(err error) (kind, errType, msg string) {
	kind, msg = notify.KindFailed, err.Error()
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		errType, msg = appErr.Type(), appErr.Message()
	}
	var timeout *temporal.TimeoutError
	switch {
	case temporal.IsCanceledError(err):
		kind, errType, msg = notify.KindCancelled, "Cancelled", "the run was cancelled"
	case errors.As(err, &timeout):
		kind = notify.KindTimedOut
		if errType == "" || errType == "StepFailed" {
			errType = timeout.TimeoutType().String() + "Timeout"
		}
	}
	return kind, errType, msg
}

// failedStep is the step a failure message names ("validate failed: ...").
func failedStep(msg string) string {
	head, _, ok := strings.Cut(msg, ": ")
	if f := strings.Fields(head); ok && len(f) == 2 && f[1] == "failed" {
		return f[0]
	}
	return ""
}

// promotion is the event of the gate's decision on version (promoted, or
// left challenger); ok is false when there was none.
func (n *notices) promotion(p pipeline.Promotion, version int, report string) (ev notify.Event, ok bool) {
	if p.Alias == "" || version <= 0 {
		return notify.Event{}, false
	}
	kind := notify.KindChallenger
	if p.Promoted {
		kind = notify.KindPromoted
	}
	ev = n.event(kind, "")
	ev.ModelVersion, ev.Alias, ev.PreviousVersion, ev.Forced, ev.Reason, ev.ReportURL = version, p.Alias, p.PreviousVersion, p.Forced, p.Reason, report
	return ev, true
}

// drift is the event of new data drifting past the threshold.
func (n *notices) drift(d pipeline.Drift) notify.Event {
	ev := n.event(notify.KindDrift, "")
	ev.DriftJS, ev.DriftFeature, ev.DriftThreshold = d.MaxJS, d.Feature, d.Threshold
	ev.Reason = "the new days differ from the base model's training data more than the threshold allows (--mode auto retrains from scratch)"
	return ev
}

// rejected is the event of an inbox file that was rejected.
func (n *notices) rejected(f pipeline.FileOutcome) notify.Event {
	ev := n.event(notify.KindRejected, f.SHA256[:min(16, len(f.SHA256))])
	ev.File, ev.MovedTo, ev.Reason = f.Name, f.Moved, clip(f.Reason, 2000)
	return ev
}

// notify sends ev and lists it in the run record (saved with the next save).
func (t *tracker) notify(ev notify.Event) {
	rec, ok := t.notes.send(ev)
	if !ok {
		return
	}
	// A new slice: records saved before keep theirs.
	t.rec.Notifications = append(slices.Clone(t.rec.Notifications), rec)
}

// notifyEnd sends the event of the run's end, after close: its failure,
// timeout or cancellation when err is set, else end (its promotion
// decision) when there is one; and saves the record listing it.
func (t *tracker) notifyEnd(err error, end notify.Event, hasEnd bool) {
	if t.notes == nil || !t.notes.on {
		return
	}
	switch {
	case err != nil:
		t.notify(t.notes.failure(err, t.rec.Stage))
	case hasEnd:
		t.notify(end)
	default:
		return
	}
	t.save()
}

// clip keeps at most n bytes of s, cut at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
