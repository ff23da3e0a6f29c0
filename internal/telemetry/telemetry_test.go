package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/logging"
)

// scrape serves reg over HTTP, as a Prometheus server would read it, and
// parses the text.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(Handler(reg))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// find returns the series of name whose labels include want.
func find(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no series %s%v", name, want)
	return nil
}

func TestWorkerMetricsScrape(t *testing.T) {
	reg := NewRegistry()
	m := NewWorker(reg)
	m.Step("Train", OutcomeOK, 2*time.Second)
	m.Step("Train", OutcomeError, time.Second)
	m.Step("Ingest", OutcomeOK, 10*time.Millisecond)
	m.RunEnded("TrainingPipeline", "completed")
	m.RunEnded("TrainingPipeline", "completed")
	m.RunEnded("TrainingPipeline", "failed")
	m.Epoch("NFLX", 1234.5, 0.25, 0.5)
	m.Notification("webhook", "sent")
	var hook NotificationRecorder = m
	hook.Notification("webhook", "failed")
	hook.Notification("webhook", "sent")
	var nilWorker *Worker // records nothing, does not panic
	nilWorker.Step("x", OutcomeOK, time.Second)
	nilWorker.Notification("email", "sent")

	fams := scrape(t, reg)
	if h := find(t, fams, "finsight_step_duration_seconds", map[string]string{"activity": "Train", "outcome": "ok"}).GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 2 {
		t.Errorf("Train ok: count %d sum %v, want 1 and 2", h.GetSampleCount(), h.GetSampleSum())
	}
	if n := find(t, fams, "finsight_runs_total", map[string]string{"workflow": "TrainingPipeline", "outcome": "completed"}).GetCounter().GetValue(); n != 2 {
		t.Errorf("completed runs %v, want 2", n)
	}
	if v := find(t, fams, "finsight_training_samples_per_second", map[string]string{"ticker": "NFLX"}).GetGauge().GetValue(); v != 1234.5 {
		t.Errorf("samples/s %v", v)
	}
	if v := find(t, fams, "finsight_training_last_epoch_loss", map[string]string{"ticker": "NFLX", "split": "val"}).GetGauge().GetValue(); v != 0.5 {
		t.Errorf("val loss %v", v)
	}
	if n := find(t, fams, "finsight_notifications_total", map[string]string{"channel": "webhook", "outcome": "sent"}).GetCounter().GetValue(); n != 2 {
		t.Errorf("webhook sent %v, want 2", n)
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Errorf("no Go runtime or process metrics")
	}
}

func TestTemporalMetricsOnTheSameRegistry(t *testing.T) {
	reg := NewRegistry()
	NewWorker(reg)
	h, shutdown, err := TemporalMetrics(reg, func(err error) { t.Errorf("metrics error: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	h.WithTags(map[string]string{"activity_type": "Train"}).Counter("temporal_activity_execution_failed").Inc(1)
	h.Timer("temporal_activity_execution_latency").Record(1500 * time.Millisecond)
	fams := scrape(t, reg)
	if n := find(t, fams, "temporal_activity_execution_failed_total", map[string]string{"activity_type": "Train"}).GetCounter().GetValue(); n != 1 {
		t.Errorf("temporal_activity_execution_failed_total %v, want 1", n)
	}
	if h := find(t, fams, "temporal_activity_execution_latency_seconds", nil).GetHistogram(); h.GetSampleCount() != 1 {
		t.Errorf("temporal_activity_execution_latency_seconds count %d, want 1", h.GetSampleCount())
	}
}

func TestTickerOf(t *testing.T) {
	type withTicker struct{ Ticker string }
	type embedded struct{ withTicker }
	for _, tc := range []struct {
		args []any
		want string
	}{
		{nil, ""},
		{[]any{"NFLX"}, ""},
		{[]any{withTicker{"NFLX"}}, "NFLX"},
		{[]any{&withTicker{"AAPL"}}, "AAPL"},
		{[]any{(*withTicker)(nil), withTicker{"MSFT"}}, "MSFT"},
		{[]any{embedded{withTicker{"IBM"}}}, "IBM"},
		{[]any{struct{ Ticker int }{3}}, ""},
	} {
		if got := TickerOf(tc.args...); got != tc.want {
			t.Errorf("TickerOf(%v) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// The activity inputs below have no Ticker field: the ticker reaches them
// from the workflow's input through the header.
type pipelineInput struct{ Ticker string }
type stepInput struct{ N int }

func stepActivity(ctx context.Context, in stepInput) (string, error) {
	activity.GetLogger(ctx).Info("step ran", "n", in.N)
	if in.N < 0 {
		return "", errors.New("negative")
	}
	return TickerFrom(ctx), nil
}

func childWorkflow(ctx workflow.Context, in stepInput) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var got string
	err := workflow.ExecuteActivity(ctx, "Step", in).Get(ctx, &got)
	return got, err
}

func parentWorkflow(ctx workflow.Context, in pipelineInput) ([]string, error) {
	workflow.GetLogger(ctx).Info("pipeline started")
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var a, b, c string
	if err := workflow.ExecuteActivity(actx, "Step", stepInput{N: 1}).Get(ctx, &a); err != nil {
		return nil, err
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	if err := workflow.ExecuteLocalActivity(lctx, "Step", stepInput{N: 2}).Get(ctx, &b); err != nil {
		return nil, err
	}
	if err := workflow.ExecuteChildWorkflow(ctx, childWorkflow, stepInput{N: 3}).Get(ctx, &c); err != nil {
		return nil, err
	}
	return []string{a, b, c}, nil
}

// lockedBuffer is a log sink several goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func TestInterceptorCarriesTheTickerAndTimesSteps(t *testing.T) {
	var logs lockedBuffer
	logger, err := logging.New(&logs, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(logging.Temporal(logger))
	env := s.NewTestWorkflowEnvironment()
	reg := NewRegistry()
	m := NewWorker(reg)
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&Interceptor{Metrics: m}}})
	env.RegisterWorkflow(parentWorkflow)
	env.RegisterWorkflow(childWorkflow)
	env.RegisterActivityWithOptions(stepActivity, activity.RegisterOptions{Name: "Step"})
	env.ExecuteWorkflow(parentWorkflow, pipelineInput{Ticker: "NFLX"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "NFLX,NFLX,NFLX" {
		t.Errorf("tickers seen by the activity, local activity and child's activity: %v, want NFLX each", got)
	}
	steps, started := 0, false
	for _, l := range logs.lines(t) {
		switch l["msg"] {
		case "step ran":
			steps++
			if l["ticker"] != "NFLX" || l["ActivityType"] != "Step" || l["WorkflowID"] == nil || l["Attempt"] == nil {
				t.Errorf("activity line without ticker, activity type, workflow id or attempt: %v", l)
			}
		case "pipeline started":
			started = true
			if l["ticker"] != "NFLX" {
				t.Errorf("workflow line without ticker: %v", l)
			}
		}
	}
	if steps != 3 || !started {
		t.Errorf("%d activity lines (want 3), workflow line %v:\n%s", steps, started, logs.b.String())
	}
	fams := scrape(t, reg)
	if n := find(t, fams, "finsight_step_duration_seconds", map[string]string{"activity": "Step", "outcome": "ok"}).GetHistogram().GetSampleCount(); n != 3 {
		t.Errorf("Step executions timed: %d, want 3", n)
	}
}
