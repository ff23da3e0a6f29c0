// Package telemetry holds FinSight's Prometheus metrics: the worker's
// (steps, runs, training, notifications, and the Temporal SDK's own through
// OpenTelemetry) and the API's (requests, forecasts, the model cache). Each
// process builds its own registry (NewRegistry) and serves it on /metrics;
// nothing here is global, and every recording method is safe on a nil
// receiver, so code may record unconditionally.
//
// It also has the worker interceptor (interceptor.go) that puts the ticker
// on every activity's and workflow's log lines and times each step.
package telemetry

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry is a fresh registry with the Go runtime's and the process's
// collectors (go_*, process_*).
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg in Prometheus' text format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// Outcomes of a step (finsight_step_duration_seconds{outcome}).
const (
	OutcomeOK        = "ok"
	OutcomeError     = "error"
	OutcomeCancelled = "cancelled"
)

// Worker is a worker's own metrics. Create it with NewWorker; a nil
// *Worker records nothing.
type Worker struct {
	steps         *prometheus.HistogramVec
	runs          *prometheus.CounterVec
	samplesPerSec *prometheus.GaugeVec
	epochLoss     *prometheus.GaugeVec
	notifications *prometheus.CounterVec
}

// NewWorker registers the worker's metrics on reg.
func NewWorker(reg prometheus.Registerer) *Worker {
	w := &Worker{
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "finsight_step_duration_seconds",
			Help:    "Wall time of each activity execution (one attempt), by activity type and outcome (ok, error, cancelled).",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 10), // 5 ms .. ~22 min
		}, []string{"activity", "outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "finsight_runs_total",
			Help: "Pipeline runs that ended, by workflow type and outcome (completed, failed, cancelled); counted when the run record is saved with its final status.",
		}, []string{"workflow", "outcome"}),
		samplesPerSec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "finsight_training_samples_per_second",
			Help: "Training windows processed per second in the ticker's last finished epoch.",
		}, []string{"ticker"}),
		epochLoss: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "finsight_training_last_epoch_loss",
			Help: "Mean loss of the ticker's last finished training epoch, on the training (split=train) and validation (split=val) windows.",
		}, []string{"ticker", "split"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "finsight_notifications_total",
			Help: "Failure notifications, by channel (e.g. webhook, email) and outcome (e.g. sent, failed, skipped).",
		}, []string{"channel", "outcome"}),
	}
	reg.MustRegister(w.steps, w.runs, w.samplesPerSec, w.epochLoss, w.notifications)
	return w
}

// Step records one activity execution's wall time.
func (w *Worker) Step(activity, outcome string, d time.Duration) {
	if w == nil {
		return
	}
	w.steps.WithLabelValues(activity, outcome).Observe(d.Seconds())
}

// RunEnded counts a pipeline run that reached a final status.
func (w *Worker) RunEnded(workflow, outcome string) {
	if w == nil {
		return
	}
	w.runs.WithLabelValues(workflow, outcome).Inc()
}

// Epoch records a finished training epoch of ticker.
func (w *Worker) Epoch(ticker string, samplesPerSec, trainLoss, valLoss float64) {
	if w == nil {
		return
	}
	w.samplesPerSec.WithLabelValues(ticker).Set(samplesPerSec)
	w.epochLoss.WithLabelValues(ticker, "train").Set(trainLoss)
	w.epochLoss.WithLabelValues(ticker, "val").Set(valLoss)
}

// Notification counts one notification attempt: channel names where it
// went (webhook, email, ...), outcome how it went (sent, failed, skipped,
// ...). Keep both to a few fixed words: each pair is a time series.
func (w *Worker) Notification(channel, outcome string) {
	if w == nil {
		return
	}
	w.notifications.WithLabelValues(channel, outcome).Inc()
}

// NotificationRecorder is what notification code needs to count its
// sends: a *Worker has it, and NotificationFunc adapts a plain function
// (e.g. in tests).
type NotificationRecorder interface {
	Notification(channel, outcome string)
}

// NotificationFunc adapts a function to NotificationRecorder.
type NotificationFunc func(channel, outcome string)

// Notification calls f; a nil f does nothing.
func (f NotificationFunc) Notification(channel, outcome string) {
	if f != nil {
		f(channel, outcome)
	}
}

// API is the HTTP API's metrics. Create it with NewAPI; a nil *API records
// nothing.
type API struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	forecast  prometheus.Histogram
	loads     *prometheus.CounterVec
	cacheHits *prometheus.CounterVec
	version   *prometheus.GaugeVec
}

// NewAPI registers the API's metrics on reg.
func NewAPI(reg prometheus.Registerer) *API {
	a := &API{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "finsight_api_requests_total",
			Help: "HTTP requests answered, by method, route (the pattern, e.g. /models/:ticker; unmatched for unknown paths) and status code.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "finsight_api_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		forecast: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "finsight_api_forecast_duration_seconds",
			Help:    "Time of the model's forward pass for one /predict (the forecast itself, without loading or validation).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10), // 0.1 ms .. ~26 s
		}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "finsight_api_model_loads_total",
			Help: "Model versions read from the store into memory, by ticker and outcome (ok, error).",
		}, []string{"ticker", "outcome"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "finsight_api_model_cache_hits_total",
			Help: "Predictions answered by the model already in memory (no load), by ticker.",
		}, []string{"ticker"}),
		version: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "finsight_api_model_version",
			Help: "The model version the API last served for the ticker.",
		}, []string{"ticker"}),
	}
	reg.MustRegister(a.requests, a.latency, a.forecast, a.loads, a.cacheHits, a.version)
	return a
}

// Request records one answered request.
func (a *API) Request(method, route string, status int, d time.Duration) {
	if a == nil {
		return
	}
	a.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	a.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// Forecast records one forward pass.
func (a *API) Forecast(d time.Duration) {
	if a == nil {
		return
	}
	a.forecast.Observe(d.Seconds())
}

// ModelLoad counts a load of one of ticker's versions (err: it failed).
func (a *API) ModelLoad(ticker string, err error) {
	if a == nil {
		return
	}
	outcome := OutcomeOK
	if err != nil {
		outcome = OutcomeError
	}
	a.loads.WithLabelValues(ticker, outcome).Inc()
}

// CacheHit counts a prediction served by the loaded model.
func (a *API) CacheHit(ticker string) {
	if a == nil {
		return
	}
	a.cacheHits.WithLabelValues(ticker).Inc()
}

// Served records the version that answered for ticker.
func (a *API) Served(ticker string, version int) {
	if a == nil {
		return
	}
	a.version.WithLabelValues(ticker).Set(float64(version))
}
