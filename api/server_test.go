package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

const lookback = 50

// transform is a min-max scaler of Open over [10, 20], in and out.
var transform = prep.Transform{
	Spec:     prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"open"}},
	Features: []prep.Affine{{Name: "open", Shift: 10, Scale: 10, Min: 10, Max: 20}},
	Label:    prep.Affine{Name: "label", Shift: 10, Scale: 10, Min: 10, Max: 20},
	Horizon:  1,
}

func modelConfig(seed int64) arch.Config {
	return arch.Config{Features: 1, Lookback: lookback, Layers: 1, Units: 8, Seed: seed}
}

// registerModel stores a freshly initialised model (seeded) as the next
// version of ticker and returns its weights.
func registerModel(t testing.TB, store blob.Store, ticker, runID string, seed int64) []byte {
	t.Helper()
	cfg := modelConfig(seed)
	m, err := model.New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	weights, err := m.MarshalWeights()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		registry.FileWeights: weights,
		registry.FileScaler:  mustJSON(t, transform),
		registry.FileConfig:  mustJSON(t, model.ArtifactConfig{Model: cfg, Lookback: cfg.Lookback, Horizon: 1}),
		registry.FileMetrics: []byte(`{"test_rmse":1}`),
		registry.FileLineage: []byte(`{"run_id":"` + runID + `"}`),
	}
	if _, err := (registry.Registry{Store: store}).Register(context.Background(), ticker, registry.Version{RunID: runID}, files); err != nil {
		t.Fatal(err)
	}
	return weights
}

// promote makes version the ticker's champion, as the pipeline does when
// it beats the naive forecast.
func promote(t testing.TB, store blob.Store, ticker string, version int) {
	t.Helper()
	if _, err := (registry.Registry{Store: store}).SetAlias(context.Background(), ticker, registry.Champion, version, "test", false, ""); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newServer serves a store holding NFLX v1 (seed 1), its champion; it
// returns the handler, the store and v1's weights.
func newServer(t testing.TB, opts ...api.Option) (http.Handler, blob.Store, []byte) {
	t.Helper()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	weights := registerModel(t, store, "NFLX", "r1", 1)
	promote(t, store, "NFLX", 1)
	srv := api.New(store, gotch.CPU, opts...)
	t.Cleanup(srv.Close)
	return srv.Handler(), store, weights
}

// opens returns n positive prices that vary, inside and above the scaler's range.
func opens(n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = 12 + 6*math.Sin(float64(i)/5) + 0.05*float64(i)
	}
	return vs
}

func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func predictBody(t testing.TB, ticker string, open []float64) string {
	return string(mustJSON(t, map[string]any{"ticker": ticker, "open": open}))
}

type prediction struct {
	Ticker       string  `json:"ticker"`
	ModelVersion int     `json:"model_version"`
	Selection    string  `json:"selection"`
	HorizonDays  int     `json:"horizon_days"`
	Prediction   float64 `json:"prediction"`
}

func predictOK(t *testing.T, h http.Handler, ticker string, open []float64) prediction {
	t.Helper()
	rec := do(h, http.MethodPost, "/predict", predictBody(t, ticker, open))
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /predict: status %d, body %s", rec.Code, rec.Body)
	}
	var p prediction
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return p
}

// expectedPrediction runs the model in weights on the last lookback values,
// scaled and unscaled by the test's own arithmetic.
func expectedPrediction(t *testing.T, weights []byte, open []float64) float64 {
	t.Helper()
	m, err := model.Load(weights, modelConfig(0), gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	window := make([]float32, lookback)
	for i, v := range open[len(open)-lookback:] {
		window[i] = float32((v - 10) / (20 - 10))
	}
	out, err := m.Predict(window)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("%d outputs for one window", len(out))
	}
	return float64(out[0])*(20-10) + 10
}

// errorMessage checks that rec is a JSON error with the status and returns
// its message.
func errorMessage(t *testing.T, rec *httptest.ResponseRecorder, status int) string {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q, want JSON", ct)
	}
	var body struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", rec.Body, err)
	}
	if body.Error == nil || strings.TrimSpace(*body.Error) == "" {
		t.Fatalf("error body %s has no error message", rec.Body)
	}
	return *body.Error
}

func TestPredictAnswersWithTheChampion(t *testing.T) {
	h, _, weights := newServer(t)
	open := opens(60)
	p := predictOK(t, h, "nflx", open)
	if p.Ticker != "NFLX" || p.ModelVersion != 1 || p.Selection != "champion" || p.HorizonDays != 1 {
		t.Fatalf("response %+v, want NFLX v1 champion, horizon 1", p)
	}
	if math.IsNaN(p.Prediction) || math.IsInf(p.Prediction, 0) {
		t.Fatalf("prediction %v is not finite", p.Prediction)
	}
	want := expectedPrediction(t, weights, open)
	if math.Abs(p.Prediction-want) > 1e-9 {
		t.Fatalf("prediction %v, want %v (model on the scaled last %d opens, unscaled)", p.Prediction, want, lookback)
	}
	// The check above can tell windows apart: the first 50 opens give
	// another answer.
	if wrong := expectedPrediction(t, weights, open[:lookback]); math.Abs(wrong-want) < 1e-6 {
		t.Fatalf("first and last windows predict the same %v; the test cannot tell them apart", want)
	}
}

// A newer version is served once it is promoted, not when it is
// registered. The manifest is checked on every request here
// (WithManifestRefresh(0)); TestPromotionIsServedWithinTwoSeconds times the
// default.
func TestPredictServesANewVersionOnceItIsChampion(t *testing.T) {
	h, store, _ := newServer(t, api.WithManifestRefresh(0))
	open := opens(60)
	first := predictOK(t, h, "NFLX", open) // loads and caches v1
	weights2 := registerModel(t, store, "NFLX", "r2", 2)
	if p := predictOK(t, h, "NFLX", open); p.ModelVersion != 1 {
		t.Fatalf("after registering v2 (not champion) the API answered with v%d", p.ModelVersion)
	}
	promote(t, store, "NFLX", 2)
	second := predictOK(t, h, "NFLX", open)
	if second.ModelVersion != 2 {
		t.Fatalf("after promoting v2 the API answered with v%d", second.ModelVersion)
	}
	want := expectedPrediction(t, weights2, open)
	if math.Abs(second.Prediction-want) > 1e-9 {
		t.Fatalf("v2 prediction %v, want %v", second.Prediction, want)
	}
	if second.Prediction == first.Prediction {
		t.Fatalf("v1 and v2 both predicted %v", first.Prediction)
	}
}

func TestPredictErrors(t *testing.T) {
	h, _, _ := newServer(t)
	valid := opens(60)
	with := func(i int, v float64) []float64 {
		vs := append([]float64(nil), valid...)
		vs[i] = v
		return vs
	}
	validJSON := string(mustJSON(t, valid))
	tests := []struct {
		name    string
		body    string
		status  int
		mention string // a part the message must contain
	}{
		{"unknown ticker", predictBody(t, "AAPL", valid), http.StatusNotFound, "AAPL"},
		{"too few values", predictBody(t, "NFLX", valid[:lookback-1]), http.StatusBadRequest, "50"},
		{"zero price", predictBody(t, "NFLX", with(10, 0)), http.StatusBadRequest, "open[10]"},
		{"negative price", predictBody(t, "NFLX", with(59, -3)), http.StatusBadRequest, "open[59]"},
		{"no prices", predictBody(t, "NFLX", nil), http.StatusBadRequest, "open"},
		{"malformed JSON", `{"ticker":"NFLX","open":[1,2`, http.StatusBadRequest, "JSON"},
		{"empty body", ``, http.StatusBadRequest, "JSON"},
		{"overflowing number", `{"ticker":"NFLX","open":[1e999,` + validJSON[1:] + `}`, http.StatusBadRequest, "JSON"},
		{"path in ticker", predictBody(t, "../x", valid), http.StatusBadRequest, "ticker"},
		{"unknown field", `{"ticker":"NFLX","open":` + validJSON + `,"horizon":5}`, http.StatusBadRequest, "horizon"},
		{"two JSON values", predictBody(t, "NFLX", valid) + `{}`, http.StatusBadRequest, "JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := errorMessage(t, do(h, http.MethodPost, "/predict", tc.body), tc.status)
			if !strings.Contains(msg, tc.mention) {
				t.Errorf("error %q does not mention %q", msg, tc.mention)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	h, _, _ := newServer(t)
	rec := do(h, http.MethodGet, "/healthz", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["status"] != "ok" {
		t.Fatalf("body %s (%v), want status ok", rec.Body, err)
	}
}

func TestUnknownRouteIsJSON404(t *testing.T) {
	h, _, _ := newServer(t)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/nope"},
		{http.MethodGet, "/predict"},
		{http.MethodPost, "/healthz/x"},
	} {
		t.Run(fmt.Sprint(r.method, " ", r.path), func(t *testing.T) {
			msg := errorMessage(t, do(h, r.method, r.path, ""), http.StatusNotFound)
			if !strings.Contains(msg, r.path) {
				t.Errorf("error %q does not name %s", msg, r.path)
			}
		})
	}
}
