package activities

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/notify/notifytest"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/workflows"
)

// deliver runs the Notification workflow (the pipelines' delivery, with its
// retry policy) on acts' real Notify step in a test environment, whose
// clock skips the backoff.
func deliver(t *testing.T, acts *Activities, ev notify.Event) (steps.NotifyResult, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.Notification, workflow.RegisterOptions{Name: pipeline.NotifyWorkflow})
	env.RegisterActivityWithOptions(acts.Notify, activity.RegisterOptions{Name: steps.Notify})
	env.ExecuteWorkflow(pipeline.NotifyWorkflow, steps.NotifyInput{Event: ev})
	if err := env.GetWorkflowError(); err != nil {
		return steps.NotifyResult{}, err
	}
	var res steps.NotifyResult
	return res, env.GetWorkflowResult(&res)
}

func failedAtValidate(runID string) notify.Event {
	const id = "train-NFLX-0a1b2c3d-4e5f6a7b"
	return notify.Event{ID: notify.EventID(id, runID, notify.KindFailed, ""), Kind: notify.KindFailed, Time: time.Now().UTC(),
		Namespace: "default", Workflow: pipeline.TrainingWorkflow, WorkflowID: id, RunID: runID, Ticker: "NFLX",
		StartedAt: time.Now().Add(-time.Minute).UTC(), Step: "validate", ErrorType: steps.ErrInvalidData, Error: "validate failed: open ≤ 0"}
}

// An SMTP server that refuses the first two deliveries gets the message on
// attempt 3 (the Notify step's retry policy); the webhook, delivered on
// attempt 1, is not sent again by attempts 2 and 3; the event sent again
// later delivers nothing more. The run record shows the outcome.
func TestNotifyRetriesUntilDeliveredAndNeverTwice(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mail := notifytest.StartSMTP(t, notifytest.SMTPOptions{RefuseFirst: 2})
	hook := notifytest.StartWebhook(t, "whsec-test")
	n, err := notify.New(notify.Config{SMTPURL: mail.URL(), To: "ops@example.com", WebhookURL: hook.URL, WebhookSecret: "whsec-test", UIURL: "http://ui.example:8233"})
	if err != nil {
		t.Fatal(err)
	}
	acts := New(store, gotch.CPU)
	acts.Notifier = n
	ev := failedAtValidate("run-1")
	// What the worker measured: validate made 1 attempt in this run.
	if err := runs.WriteStat(ctx, store, ev.WorkflowID, "Validate-7-1", runs.Stat{Activity: "Validate", Attempt: 1, StartedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	// The run record lists the event as sending (the pipeline saved it so).
	if err := runs.Write(ctx, store, runs.Record{ID: ev.WorkflowID, Status: runs.StatusFailed, Notifications: []runs.Notification{
		{Event: ev.ID, Kind: ev.Kind, Workflow: "w-notify", Status: runs.NotifySending}}}); err != nil {
		t.Fatal(err)
	}

	res, err := deliver(t, acts, ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != runs.NotifySent || res.Attempt != 3 {
		t.Fatalf("result %+v, want sent on attempt 3", res)
	}
	if got := len(mail.Mails()); got != 1 || mail.Attempts() != 3 {
		t.Fatalf("%d mails after %d SMTP attempts, want 1 after 3", got, mail.Attempts())
	}
	if got := len(hook.Deliveries()); got != 1 || hook.Requests() != 1 {
		t.Fatalf("webhook: %d deliveries, %d requests; want 1 and 1", got, hook.Requests())
	}
	body := mail.Mails()[0].Body
	for _, want := range []string{"Step:        validate", "Attempts:    1", ev.WorkflowID, "http://ui.example:8233/namespaces/default/workflows/" + ev.WorkflowID + "/run-1/history"} {
		if !strings.Contains(body, want) {
			t.Errorf("mail lacks %q:\n%s", want, body)
		}
	}
	if d := hook.Deliveries()[0]; d.Payload.Event.Attempts != 1 || d.Payload.Event.Step != "validate" {
		t.Errorf("webhook event %+v", d.Payload.Event)
	}
	rec, err := runs.Read(ctx, store, ev.WorkflowID)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.Notifications[0]
	if got.Status != runs.NotifySent || got.Attempts != 3 || strings.Join(got.Channels, ",") != "email,webhook" || got.Workflow == "" {
		t.Fatalf("record shows %+v, want sent on both channels after 3 attempts", got)
	}

	// The same event again: both channels are marked, nothing goes out.
	again, err := deliver(t, acts, ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again.Channels {
		if c.Status != "already sent" {
			t.Fatalf("repeat: %+v", again.Channels)
		}
	}
	if len(mail.Mails()) != 1 || hook.Requests() != 1 {
		t.Fatalf("the repeat delivered again: %d mails, %d webhook requests", len(mail.Mails()), hook.Requests())
	}
}

// A channel that refuses for good fails the delivery at once, recorded as
// failed, with no secret in the error.
func TestNotifyRefusedForGoodFailsAtOnce(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hook := notifytest.StartWebhook(t, "")
	hook.Status = func(int) int { return 410 }
	n, err := notify.New(notify.Config{WebhookURL: hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	acts := New(store, gotch.CPU)
	acts.Notifier = n
	ev := failedAtValidate("run-2")
	_, err = deliver(t, acts, ev)
	if err == nil || hook.Requests() != 1 || strings.Contains(err.Error(), "s3cr3t-path") {
		t.Fatalf("err %v after %d requests; want one refused request, path redacted", err, hook.Requests())
	}
	var out runs.Notification
	if err := blob.GetJSON(context.Background(), store, runs.NotificationKey(ev.WorkflowID, ev.ID), &out); err != nil {
		t.Fatal(err)
	}
	if out.Status != runs.NotifyFailed || !strings.Contains(out.Error, "410") {
		t.Fatalf("outcome %+v", out)
	}
}

// Without channels the step sends nothing and says so.
func TestNotifyWithoutChannelsIsOff(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := deliver(t, New(store, gotch.CPU), failedAtValidate("run-3"))
	if err != nil || res.Status != runs.NotifyOff {
		t.Fatalf("%+v, %v; want off", res, err)
	}
}
