package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// sentEvents mocks the Notification child workflow: it keeps each event a
// pipeline sends, and answers with err (nil: delivered).
func sentEvents(env *testsuite.TestWorkflowEnvironment, err error) func() []notify.Event {
	var mu sync.Mutex
	var got []notify.Event
	env.OnWorkflow(pipeline.NotifyWorkflow, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in steps.NotifyInput) (steps.NotifyResult, error) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, in.Event)
			return steps.NotifyResult{EventID: in.ID, Status: runs.NotifySent}, err
		})
	return func() []notify.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]notify.Event(nil), got...)
	}
}

func kinds(evs []notify.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

// A critical anomaly stops a run at validate: one message, naming the
// step, the error type and message, the run; the pipeline's own error is
// unchanged and the record lists the notification.
func TestFailedRunNotifiesOnceNamingTheStep(t *testing.T) {
	failure := temporal.NewNonRetryableApplicationError("1 critical anomaly: open ≤ 0 on 2020-03-02", steps.ErrInvalidData, nil)
	env, _, inputs := mockedPipeline(t, "Validate", failure)
	events := sentEvents(env, nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv"})
	if err := env.GetWorkflowError(); appErrorType(err) != steps.ErrInvalidData {
		t.Fatalf("run ended with %v, want its InvalidData failure", err)
	}
	evs := events()
	if len(evs) != 1 {
		t.Fatalf("sent %v, want one failure", kinds(evs))
	}
	ev := evs[0]
	info := "default-test-workflow-id"
	if ev.Kind != notify.KindFailed || ev.Step != "validate" || ev.ErrorType != steps.ErrInvalidData || ev.Ticker != "NFLX" ||
		ev.WorkflowID != info || ev.Workflow != pipeline.TrainingWorkflow || ev.RunID == "" ||
		!strings.Contains(ev.Error, "validate failed: 1 critical anomaly: open ≤ 0") {
		t.Fatalf("event %+v", ev)
	}
	if ev.ID != info+"/"+ev.RunID+"/failed" {
		t.Fatalf("event id %q", ev.ID)
	}
	saved := inputs["SaveRun"].([]runs.Record)
	last := saved[len(saved)-1]
	if last.Status != runs.StatusFailed || len(last.Notifications) != 1 {
		t.Fatalf("last record: status %s, notifications %+v", last.Status, last.Notifications)
	}
	n := last.Notifications[0]
	if n.Event != ev.ID || n.Kind != notify.KindFailed || n.Status != runs.NotifySending || n.Workflow != notifyWorkflowID(ev) {
		t.Fatalf("record lists %+v", n)
	}
}

// A run that registers a model tells whether it was promoted, with the
// report; one message.
func TestPromotionNotifiesOnceWithTheReport(t *testing.T) {
	env, _, _ := mockedPipeline(t, "", nil)
	events := sentEvents(env, nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	evs := events()
	if len(evs) != 1 || evs[0].Kind != notify.KindPromoted || evs[0].ModelVersion != 3 || evs[0].Alias != "champion" ||
		evs[0].ReportURL != "file:///runs/x/report.html" || evs[0].Reason != "no champion yet" {
		t.Fatalf("sent %+v, want one promotion of v3 with the report", evs)
	}
}

// Cancelling a run still notifies (from a disconnected context), naming
// the step it was in.
func TestCancelledRunNotifies(t *testing.T) {
	env, _, _ := mockedPipeline(t, "", nil)
	env.RegisterWorkflow(Tune)
	cancellingTrials(env, 2)
	events := sentEvents(env, nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv",
		Tune: pipeline.TuneSpec{Trials: 6, Concurrency: 3, Epochs: 1, Seed: 1}})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("run ended with %v, want cancelled", err)
	}
	evs := events()
	if len(evs) != 1 || evs[0].Kind != notify.KindCancelled || evs[0].Step != "tune" {
		t.Fatalf("sent %+v, want one cancellation at tune", evs)
	}
}

// A notification that cannot be delivered changes nothing about the run.
func TestUndeliverableNotificationLeavesTheResult(t *testing.T) {
	env, _, inputs := mockedPipeline(t, "", nil)
	events := sentEvents(env, temporal.NewNonRetryableApplicationError("webhook answered 404", steps.ErrNotifyRejected, nil))
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("run failed with its notification: %v", err)
	}
	var res pipeline.TrainingResult
	if err := env.GetWorkflowResult(&res); err != nil || res.ModelVersion != 3 || !res.Promotion.Promoted {
		t.Fatalf("result %+v (%v)", res, err)
	}
	if len(events()) != 1 {
		t.Fatalf("sent %v", kinds(events()))
	}
	saved := inputs["SaveRun"].([]runs.Record)
	if last := saved[len(saved)-1]; last.Status != runs.StatusCompleted || len(last.Notifications) != 1 {
		t.Fatalf("last record: %s, %+v", last.Status, last.Notifications)
	}
}

// A retrain notifies drift past the threshold, each rejected inbox file
// (moved to rejected/), and its promotion decision: one message each.
func TestRetrainNotifiesDriftRejectedFilesAndTheDecision(t *testing.T) {
	bad, good, viaHook := retrainFile("bad.csv", true), retrainFile("good.csv", true), retrainFile("hook.csv", false)
	m := mockedRetrain(t, retrainOverrides{
		"CheckNewData": func(_ context.Context, in steps.CheckNewDataInput) (steps.CheckNewDataResult, error) {
			out := steps.CheckNewDataResult{Drift: pipeline.Drift{MaxJS: 0.4, Feature: "open", Threshold: 0.1, Exceeded: true}}
			for _, f := range in.Files {
				o := pipeline.FileOutcome{Name: f.Name, SHA256: f.SHA256, Raw: f.Raw}
				if f.SHA256 != good.SHA256 {
					o.Rejected, o.Reason = true, "2024-07-02 open 101 conflicts with 100"
				} else {
					out.Accepted = append(out.Accepted, f.Raw)
				}
				out.Files = append(out.Files, o)
			}
			return out, nil
		},
		"Promote": func(context.Context, steps.PromoteInput) (pipeline.Promotion, error) {
			return pipeline.Promotion{Alias: "challenger", Reason: "does not beat the champion v4", PreviousVersion: 4}, nil
		},
	})
	events := sentEvents(m.env, nil)
	m.mustRun(t, pipeline.RetrainOptions{Mode: pipeline.ModeAuto}, bad, good, viaHook)
	evs := events()
	if got := strings.Join(kinds(evs), ","); got != "drift,file_rejected,challenger" {
		t.Fatalf("sent %s, want drift, the rejected inbox file (not the hook's) and the decision", got)
	}
	if d := evs[0]; d.DriftJS != 0.4 || d.DriftFeature != "open" || d.DriftThreshold != 0.1 || d.Workflow != pipeline.RetrainingWorkflow {
		t.Fatalf("drift event %+v", d)
	}
	if r := evs[1]; r.File != "bad.csv" || r.MovedTo != "inbox/NFLX/rejected/bad.csv" || !strings.Contains(r.Reason, "conflicts") ||
		!strings.HasSuffix(r.ID, "/file_rejected/"+bad.SHA256) {
		t.Fatalf("rejection event %+v", r)
	}
	if c := evs[2]; c.ModelVersion != 5 || c.Alias != "challenger" || c.PreviousVersion != 4 || c.ReportURL == "" {
		t.Fatalf("decision event %+v", c)
	}
	last := m.records[len(m.records)-1]
	if len(last.Notifications) != 3 {
		t.Fatalf("record lists %+v", last.Notifications)
	}
}

// A failed validation (ValidateData) notifies too; it has no run record.
func TestValidateDataFailureNotifies(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	env.OnActivity(steps.Ingest, mock.Anything, mock.Anything).Return(steps.IngestResult{},
		temporal.NewNonRetryableApplicationError("no Date column", steps.ErrInvalidData, nil))
	events := sentEvents(env, nil)
	env.ExecuteWorkflow(ValidateData, pipeline.ValidateInput{Ticker: "AAPL", CSVKey: "uploads/x.csv"})
	if err := env.GetWorkflowError(); appErrorType(err) != steps.ErrInvalidData {
		t.Fatalf("validation ended with %v", err)
	}
	evs := events()
	if len(evs) != 1 || evs[0].Step != "ingest" || evs[0].Ticker != "AAPL" || evs[0].Workflow != pipeline.ValidateWorkflow {
		t.Fatalf("sent %+v, want one failure at ingest", evs)
	}
}

// The Notification workflow retries the step on its own policy: a
// delivery that fails twice goes out on attempt 3; one that always fails
// is given up after 10 attempts, about an hour after the first; one
// refused for good is not retried.
func TestNotificationRetryPolicy(t *testing.T) {
	run := func(t *testing.T, fail func(attempt int32) error) (calls []time.Time, maxAttempts int32, res steps.NotifyResult, err error) {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		registerSteps(env)
		env.OnActivity(steps.Notify, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in steps.NotifyInput) (steps.NotifyResult, error) {
				calls, maxAttempts = append(calls, env.Now()), in.MaxAttempts
				attempt := activity.GetInfo(ctx).Attempt
				return steps.NotifyResult{EventID: in.ID, Status: runs.NotifySent, Attempt: attempt}, fail(attempt)
			})
		env.ExecuteWorkflow(Notification, steps.NotifyInput{Event: notify.Event{ID: "w/r/failed", WorkflowID: "w", Kind: notify.KindFailed}})
		err = env.GetWorkflowError()
		if err == nil {
			_ = env.GetWorkflowResult(&res)
		}
		return calls, maxAttempts, res, err
	}
	t.Run("delivered on attempt 3", func(t *testing.T) {
		calls, maxAttempts, res, err := run(t, func(a int32) error {
			if a <= 2 {
				return temporal.NewApplicationError("451 try again later", "NotifyFailed")
			}
			return nil
		})
		if err != nil || len(calls) != 3 || res.Attempt != 3 || maxAttempts != notifyAttempts {
			t.Fatalf("%d calls, result %+v, max attempts %d, err %v", len(calls), res, maxAttempts, err)
		}
	})
	t.Run("given up after an hour", func(t *testing.T) {
		calls, _, _, err := run(t, func(int32) error { return errors.New("connection refused") })
		if err == nil || len(calls) != notifyAttempts {
			t.Fatalf("%d calls, err %v; want %d and a failure", len(calls), err, notifyAttempts)
		}
		if span := calls[len(calls)-1].Sub(calls[0]); span < 50*time.Minute || span > 70*time.Minute {
			t.Fatalf("attempts spread over %s, want about an hour", span)
		}
	})
	t.Run("refused for good", func(t *testing.T) {
		calls, _, _, err := run(t, func(int32) error {
			return temporal.NewNonRetryableApplicationError("550 no such user", steps.ErrNotifyRejected, nil)
		})
		if err == nil || len(calls) != 1 {
			t.Fatalf("%d calls, err %v; want 1 and a failure", len(calls), err)
		}
	})
}

func TestDescribeFailure(t *testing.T) {
	for _, tc := range []struct {
		err                 error
		kind, errType, want string
	}{
		{stepFailed("validate", temporal.NewNonRetryableApplicationError("bad row", steps.ErrInvalidData, nil)), notify.KindFailed, steps.ErrInvalidData, "validate failed: bad row"},
		{stepFailed("train", temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_START_TO_CLOSE, nil)), notify.KindTimedOut, "StartToCloseTimeout", "train failed"},
		{noWorker("train", "finsight-gpu", time.Minute, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)), notify.KindTimedOut, ErrNoGPUWorker, "no worker polled"},
		{temporal.NewCanceledError(), notify.KindCancelled, "Cancelled", "cancelled"},
		{errors.New("plain"), notify.KindFailed, "", "plain"},
	} {
		kind, errType, msg := describeFailure(tc.err)
		if kind != tc.kind || errType != tc.errType || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: (%s, %s, %q), want (%s, %s, …%s…)", tc.err, kind, errType, msg, tc.kind, tc.errType, tc.want)
		}
	}
	if got := sdkDecoration.ReplaceAllString("validate failed: open -1 (type: InvalidData, retryable: false): more", ""); got != "validate failed: open -1: more" {
		t.Errorf("decoration left: %q", got)
	}
	if s := failedStep("validate failed: 1 critical anomaly"); s != "validate" {
		t.Errorf("failedStep = %q", s)
	}
}
