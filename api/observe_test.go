package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
)

// scrapeMetrics GETs /metrics from srv and parses it as Prometheus would.
func scrapeMetrics(t *testing.T, srv *httptest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// series is the value of name's series with exactly labels (0 when absent),
// a histogram's sample count.
func series(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestMetricsAndRequestLogAfterKnownTraffic(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	registerModel(t, store, "NFLX", "r1", 1)
	promote(t, store, "NFLX", 1)
	var logs bytes.Buffer
	// Every request checks the manifest, so the promotion of v2 below is
	// served by the next request.
	srv := api.New(store, gotch.CPU, api.WithManifestRefresh(0),
		api.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	good := predictBody(t, "NFLX", opens(60))
	for range 3 {
		if code := post(t, hs.URL+"/predict", good); code != http.StatusOK {
			t.Fatalf("POST /predict: %d", code)
		}
	}
	if code := post(t, hs.URL+"/predict", predictBody(t, "NFLX", opens(3))); code != http.StatusBadRequest {
		t.Fatalf("too few opens: %d, want 400", code)
	}
	if code := post(t, hs.URL+"/predict", predictBody(t, "AAPL", opens(60))); code != http.StatusNotFound {
		t.Fatalf("unknown ticker: %d, want 404", code)
	}
	if resp, err := http.Get(hs.URL + "/models/NFLX"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /models/NFLX: %v %v", resp, err)
	}
	if resp, err := http.Get(hs.URL + "/no/such/path"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /no/such/path: %v %v", resp, err)
	}

	fams := scrapeMetrics(t, hs)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"finsight_api_requests_total", map[string]string{"method": "POST", "route": "/predict", "status": "200"}, 3},
		{"finsight_api_requests_total", map[string]string{"method": "POST", "route": "/predict", "status": "400"}, 1},
		{"finsight_api_requests_total", map[string]string{"method": "POST", "route": "/predict", "status": "404"}, 1},
		{"finsight_api_requests_total", map[string]string{"method": "GET", "route": "/models/:ticker", "status": "200"}, 1},
		{"finsight_api_requests_total", map[string]string{"method": "GET", "route": "unmatched", "status": "404"}, 1},
		{"finsight_api_request_duration_seconds", map[string]string{"method": "POST", "route": "/predict"}, 5},
		{"finsight_api_forecast_duration_seconds", map[string]string{}, 3},
		{"finsight_api_model_loads_total", map[string]string{"ticker": "NFLX", "outcome": "ok"}, 1},
		// The 400 (too few Opens for the model's lookback) also used the loaded model.
		{"finsight_api_model_cache_hits_total", map[string]string{"ticker": "NFLX"}, 3},
		{"finsight_api_model_version", map[string]string{"ticker": "NFLX"}, 1},
	} {
		if got := series(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// A new champion: loaded once, then served and reported.
	registerModel(t, store, "NFLX", "r2", 2)
	promote(t, store, "NFLX", 2)
	if code := post(t, hs.URL+"/predict", good); code != http.StatusOK {
		t.Fatalf("POST /predict after v2: %d", code)
	}
	fams = scrapeMetrics(t, hs)
	if got := series(fams, "finsight_api_model_version", map[string]string{"ticker": "NFLX"}); got != 2 {
		t.Errorf("served version after v2: %v, want 2", got)
	}
	if got := series(fams, "finsight_api_model_loads_total", map[string]string{"ticker": "NFLX", "outcome": "ok"}); got != 2 {
		t.Errorf("loads after v2: %v, want 2", got)
	}

	// One line per request (the scrapes log at debug level, below info).
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 8 {
		t.Fatalf("%d request lines, want 8:\n%s", len(lines), logs.String())
	}
	first := lines[0]
	if first["method"] != "POST" || first["route"] != "/predict" || first["status"] != float64(200) ||
		first["ticker"] != "NFLX" || first["model_version"] != float64(1) {
		t.Errorf("first /predict line: %v", first)
	}
	if _, ok := first["latency_ms"].(float64); !ok {
		t.Errorf("no latency_ms: %v", first)
	}
	// The model that found the window too short is named.
	if bad := lines[3]; bad["status"] != float64(400) || bad["ticker"] != "NFLX" || bad["model_version"] != float64(1) {
		t.Errorf("400 line: %v", bad)
	}
	if models := lines[5]; models["route"] != "/models/:ticker" || models["ticker"] != "NFLX" {
		t.Errorf("/models/NFLX line: %v", models)
	}
	if last := lines[7]; last["model_version"] != float64(2) {
		t.Errorf("line after v2: %v", last)
	}
}
