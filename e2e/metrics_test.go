package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/logging"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/internal/telemetry"
	"github.com/finsight/finsight/workflows"
)

// One small training run on a worker wired as worker/main.go wires it
// (JSON logs through slog, the telemetry interceptor, the SDK's metrics on
// the same registry): every step leaves a log line carrying the workflow
// id and the ticker, and /metrics counts the run, its steps and training.
func TestRunLogsAndWorkerMetrics(t *testing.T) {
	srv := devserver.Start(t)
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var logs sharedtest.SyncBuffer
	logger, err := logging.New(&logs, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	reg := telemetry.NewRegistry()
	m := telemetry.NewWorker(reg)
	sdkMetrics, shutdown, err := telemetry.TemporalMetrics(reg, func(err error) { t.Errorf("temporal metrics: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	c, err := client.Dial(client.Options{HostPort: srv.Address, Logger: logging.Temporal(logger), MetricsHandler: sdkMetrics})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	queue := "e2e-" + t.Name()
	opts := worker.Options{Interceptors: []interceptor.WorkerInterceptor{
		&telemetry.Interceptor{Metrics: m}, &activities.UsageInterceptor{Store: store}}}
	w := worker.New(c, queue, opts)
	acts := activities.New(store, gotch.CPU)
	acts.Progress, acts.Temporal, acts.Metrics = c, c, m
	workflows.Register(w)
	activities.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	defer startTrainWorker(t, c, queue, acts, opts).Stop()

	s := &stack{store: store, c: c, queue: queue}
	const id = "e2e-metrics-NFLX"
	s.trainAs(t, id, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: s.upload(t, sharedtest.Path(t, "single", "NFLX.csv")),
		Model: pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 1}})

	// The run's lines, found by its workflow id alone.
	seen := map[string]int{}
	epochs := 0
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if l["WorkflowID"] != id {
			continue
		}
		typ, _ := l["ActivityType"].(string)
		if typ == "" {
			continue // a workflow line
		}
		seen[typ]++
		if l["ticker"] != "NFLX" || l["RunID"] == nil || l["Attempt"] == nil {
			t.Errorf("activity line without ticker, run id or attempt: %s", line)
		}
		if l["msg"] == "epoch" {
			epochs++
			t.Logf("epoch line: %s", line)
			if l["epoch"] != "1/1" || l["train_loss"] == nil || l["val_loss"] == nil || l["lr"] == nil || l["samples_per_s"] == nil {
				t.Errorf("epoch line: %s", line)
			}
		}
	}
	for _, step := range []string{steps.Ingest, steps.Validate, steps.Clean, steps.Split, steps.Scale, steps.Window,
		steps.Train, steps.Evaluate, steps.Register, steps.Promote, steps.SaveRun, steps.Report} {
		if seen[step] == 0 {
			t.Errorf("no log line of %s with WorkflowID %s (lines by activity type: %v)", step, id, seen)
		}
	}
	if epochs != 1 {
		t.Errorf("%d epoch lines, want 1", epochs)
	}

	// What Prometheus would scrape.
	hs := httptest.NewServer(telemetry.Handler(reg))
	defer hs.Close()
	fams := scrapeWorker(t, hs.URL)
	value := func(name string, labels map[string]string) float64 {
		for _, mt := range fams[name].GetMetric() {
			ok := true
			for _, l := range mt.GetLabel() {
				if v, want := labels[l.GetName()]; want && v != l.GetValue() {
					ok = false
				}
			}
			if !ok {
				continue
			}
			switch {
			case mt.Counter != nil:
				return mt.GetCounter().GetValue()
			case mt.Gauge != nil:
				return mt.GetGauge().GetValue()
			case mt.Histogram != nil:
				return float64(mt.GetHistogram().GetSampleCount())
			}
		}
		return 0
	}
	if n := value("finsight_runs_total", map[string]string{"workflow": "TrainingPipeline", "outcome": "completed"}); n != 1 {
		t.Errorf("finsight_runs_total{completed} = %v, want 1", n)
	}
	if n := value("finsight_step_duration_seconds", map[string]string{"activity": steps.Train, "outcome": "ok"}); n != 1 {
		t.Errorf("Train executions timed: %v, want 1", n)
	}
	if v := value("finsight_training_samples_per_second", map[string]string{"ticker": "NFLX"}); v <= 0 {
		t.Errorf("finsight_training_samples_per_second{NFLX} = %v, want > 0", v)
	}
	if v := value("finsight_training_last_epoch_loss", map[string]string{"ticker": "NFLX", "split": "train"}); v <= 0 {
		t.Errorf("finsight_training_last_epoch_loss{NFLX,train} = %v, want > 0", v)
	}
	var temporal []string
	for name := range fams {
		if strings.HasPrefix(name, "temporal_") {
			temporal = append(temporal, name)
		}
	}
	if n := value("temporal_workflow_completed_total", map[string]string{"workflow_type": "TrainingPipeline"}); n < 1 {
		t.Errorf("temporal_workflow_completed_total{TrainingPipeline} = %v, want ≥ 1 (temporal metrics: %v)", n, temporal)
	}
	if n := value("temporal_activity_execution_latency_seconds", map[string]string{"activity_type": steps.Train}); n < 1 {
		t.Errorf("temporal_activity_execution_latency_seconds{Train} = %v, want ≥ 1 (temporal metrics: %v)", n, temporal)
	}
}

func scrapeWorker(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
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
