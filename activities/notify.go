package activities

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// Notify delivers one event (a failed, timed-out or cancelled run, drift,
// a promotion decision, a rejected inbox file) on every channel the
// worker has (a.Notifier; none: it records "off" and returns).
//
// It is idempotent per event id: after a channel's delivery it writes
// runs/<id>/notifications/<run id>/<kind>[/<detail>].<channel>.sent
// (create-if-absent), and an attempt that finds that marker does not
// deliver on that channel again. So a retry after a failure on one channel
// repeats only that channel, and a worker that dies after delivering and
// marking, before the activity completes, causes no second message. What
// remains is at least once: a worker that dies between the server's
// acceptance and the marker (milliseconds), or a store that cannot write
// the marker then, may deliver again; every repeat carries the same
// Message-ID and X-FinSight-Event-Id, so mail clients and receivers can
// drop it.
//
// Each attempt writes the delivery's outcome (sent, retrying, failed, off)
// to runs/<id>/notifications/<run id>/<kind>[/<detail>].json, which the run
// record shows (runs.Read). A delivery refused for good on every channel
// still owed fails as NotifyRejected (not retried); any other failure is
// retried by the policy.
func (a *Activities) Notify(ctx context.Context, in steps.NotifyInput) (steps.NotifyResult, error) {
	info := activity.GetInfo(ctx)
	ev := in.Event
	out := steps.NotifyResult{EventID: ev.ID, Attempt: info.Attempt}
	rec := runs.Notification{Event: ev.ID, Kind: ev.Kind, Workflow: info.WorkflowExecution.ID, Attempts: info.Attempt}
	if ev.ID == "" || ev.WorkflowID == "" || !strings.HasPrefix(ev.ID, ev.WorkflowID+"/") {
		return out, invalid(steps.ErrInvalidParams, nil, "notification event %q of workflow %q: the id must begin with the workflow id", ev.ID, ev.WorkflowID)
	}
	channels := a.Notifier.Channels()
	if len(channels) == 0 {
		out.Status, rec.Status, rec.At = runs.NotifyOff, runs.NotifyOff, time.Now().UTC()
		a.recordNotification(ctx, ev.WorkflowID, rec)
		return out, nil
	}
	if ev.Attempts == 0 && ev.Step != "" && ev.Kind != notify.KindCancelled {
		ev.Attempts = a.stepAttempts(ctx, ev)
	}
	var errs []error
	permanent := true
	for _, ch := range channels {
		marker := runs.NotificationSentKey(ev.WorkflowID, ev.ID, ch)
		if done, err := a.Store.Exists(ctx, marker); err == nil && done {
			out.Channels = append(out.Channels, steps.ChannelResult{Channel: ch, Status: "already sent"})
			rec.Channels = append(rec.Channels, ch)
			a.Metrics.Notification(ch, "skipped")
			continue
		} else if err != nil {
			// Better twice than never: deliver without knowing.
			activity.GetLogger(ctx).Warn("could not check whether the event was delivered; delivering", "event", ev.ID, "channel", ch, "err", err)
		}
		if err := a.Notifier.Send(ctx, ch, ev); err != nil {
			errs = append(errs, err)
			permanent = permanent && notify.IsPermanent(err)
			a.Metrics.Notification(ch, "failed")
			continue
		}
		a.Metrics.Notification(ch, "sent")
		res := steps.ChannelResult{Channel: ch, Status: "sent"}
		if err := a.markSent(ctx, marker, ev.ID, ch, info.Attempt); err != nil {
			res.Note = "delivered but not marked: a retry may deliver it again"
			activity.GetLogger(ctx).Warn("could not mark the event delivered", "event", ev.ID, "channel", ch, "err", err)
		}
		out.Channels = append(out.Channels, res)
		rec.Channels = append(rec.Channels, ch)
	}
	rec.At = time.Now().UTC()
	if len(errs) == 0 {
		out.Status, rec.Status = runs.NotifySent, runs.NotifySent
		a.recordNotification(ctx, ev.WorkflowID, rec)
		return out, nil
	}
	// The messages name servers by their redacted URLs; the error carries
	// the message only, no chain that could hold more.
	msg := errors.Join(errs...).Error()
	rec.Status, rec.Error = runs.NotifyRetrying, msg
	if permanent || (in.MaxAttempts > 0 && info.Attempt >= in.MaxAttempts) {
		rec.Status = runs.NotifyFailed
	}
	a.recordNotification(ctx, ev.WorkflowID, rec)
	if permanent {
		return out, temporal.NewNonRetryableApplicationError("notification "+ev.ID+" refused: "+msg, steps.ErrNotifyRejected, nil)
	}
	return out, temporal.NewApplicationError("notification "+ev.ID+" not delivered: "+msg, "NotifyFailed")
}

// markSent writes the channel's delivered marker, create-if-absent; one
// already there (a concurrent attempt delivered too) is no error. It is
// written even when the activity is being cancelled: the delivery happened.
func (a *Activities) markSent(ctx context.Context, key, event, channel string, attempt int32) error {
	b, err := json.Marshal(map[string]any{"event": event, "channel": channel, "attempt": attempt, "at": time.Now().UTC()})
	if err != nil {
		return err
	}
	err = a.Store.PutIfAbsent(context.WithoutCancel(ctx), key, strings.NewReader(string(b)))
	if errors.Is(err, blob.ErrExists) {
		return nil
	}
	return err
}

// recordNotification writes the delivery's outcome for the run record; a
// failure is logged (the record then shows the delivery as sending).
func (a *Activities) recordNotification(ctx context.Context, runID string, rec runs.Notification) {
	if err := runs.WriteNotification(context.WithoutCancel(ctx), a.Store, runID, rec); err != nil {
		activity.GetLogger(ctx).Warn("could not record the notification's outcome", "event", rec.Event, "err", err)
	}
}

// stepActivities are the activities of the pipeline steps not named after
// one (the others are: step "train" runs Train).
var stepActivities = map[string][]string{
	"base":     {steps.ResolveBase},
	"validate": {steps.Validate, steps.CheckNewData, steps.RejectFiles},
	"tune":     {steps.TrainTrial},
	"scan":     {steps.ScanInbox},
	"handoff":  {steps.HandOff},
}

// stepAttempts is how many attempts the event's step made in its run: the
// highest attempt the worker measured (runs/<id>/stats/) for the step's
// activities since the run began; 0 when unknown.
func (a *Activities) stepAttempts(ctx context.Context, ev notify.Event) int32 {
	stats, err := runs.ReadStats(ctx, a.Store, ev.WorkflowID)
	if err != nil {
		activity.GetLogger(ctx).Warn("could not read the run's step statistics", "run", ev.WorkflowID, "err", err)
		return 0
	}
	names, ok := stepActivities[ev.Step]
	if !ok {
		names = []string{ev.Step}
	}
	var n int32
	for _, st := range stats {
		if !ev.StartedAt.IsZero() && st.StartedAt.Before(ev.StartedAt.Add(-time.Second)) {
			continue // an earlier run under the same workflow id
		}
		for _, name := range names {
			if strings.EqualFold(st.Activity, name) {
				n = max(n, st.Attempt)
			}
		}
	}
	return n
}
