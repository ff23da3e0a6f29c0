package api_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
)

// bandedSummary is test metrics with prediction intervals at 80% and 95%
// in scale (metrics.ScaleLastOpen or price units): the model's
// half-widths 0.015 and 0.0325, naive's 0.02 and 0.04.
func bandedSummary(testRMSE, naiveRMSE float64, scale string) metrics.TestSummary {
	return metrics.TestSummary{TestRMSE: testRMSE, NaiveRMSE: naiveRMSE, N: 100, Intervals: &metrics.Intervals{Scale: scale,
		Model: []conformal.Band{{Level: 0.8, HalfWidth: 0.015, N: 300}, {Level: 0.95, HalfWidth: 0.0325, N: 300}},
		Naive: []conformal.Band{{Level: 0.8, HalfWidth: 0.02, N: 300}, {Level: 0.95, HalfWidth: 0.04, N: 300}},
		Test: []metrics.IntervalTest{{Level: 0.8, ModelCoverage: 0.79, NaiveCoverage: 0.81, ModelWidth: 0.4, NaiveWidth: 0.5, N: 100},
			{Level: 0.95, ModelCoverage: 0.96, NaiveCoverage: 0.94, ModelWidth: 0.9, NaiveWidth: 1.1, N: 100}},
		AbsoluteTest: []metrics.IntervalTest{{Level: 0.8, ModelCoverage: 0.6, NaiveCoverage: 0.61, ModelWidth: 0.3, NaiveWidth: 0.35, N: 100},
			{Level: 0.95, ModelCoverage: 0.9, NaiveCoverage: 0.91, ModelWidth: 0.7, NaiveWidth: 0.8, N: 100}},
	}}
}

// registerBanded stores a freshly initialised model (seeded) as the next
// version of ticker with the metrics sum, in the manifest and metrics.json,
// as the Register step does; it returns the weights.
func registerBanded(t testing.TB, store blob.Store, ticker, runID string, seed int64, sum metrics.TestSummary) []byte {
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
		registry.FileMetrics: mustJSON(t, sum),
		registry.FileLineage: []byte(`{"run_id":"` + runID + `"}`),
	}
	if _, err := (registry.Registry{Store: store}).Register(context.Background(), ticker, registry.Version{RunID: runID, Metrics: sum}, files); err != nil {
		t.Fatal(err)
	}
	return weights
}

type intervalJSON struct {
	Level float64 `json:"level"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

type batchIntervalJSON struct {
	Level float64   `json:"level"`
	Low   []float64 `json:"low"`
	High  []float64 `json:"high"`
}

// intervalAnswer is a one-window /predict answer's interval fields.
type intervalAnswer struct {
	ModelVersion int            `json:"model_version"`
	Selection    string         `json:"selection"`
	Prediction   float64        `json:"prediction"`
	Interval     *intervalJSON  `json:"interval"`
	Intervals    []intervalJSON `json:"intervals"`
}

func postIntervals(t *testing.T, h http.Handler, path, contentType, body string) (intervalAnswer, string) {
	t.Helper()
	rec := doBody(h, path, contentType, strings.NewReader(body))
	if rec.Code != http.StatusOK {
		t.Fatalf("POST %s: status %d, body %s", path, rec.Code, rec.Body)
	}
	var a intervalAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return a, rec.Body.String()
}

// wantIntervals checks one forecast's intervals: at each band's level,
// point ± the stored half-width times scale (the window's last Open, or 1
// for price units), the first band's as interval.
func wantIntervals(t *testing.T, what string, point, scale float64, first *intervalJSON, all []intervalJSON, bands []conformal.Band) {
	t.Helper()
	if first == nil || len(all) != len(bands) {
		t.Fatalf("%s: interval %+v, intervals %+v; want %d levels", what, first, all, len(bands))
	}
	if *first != all[0] {
		t.Errorf("%s: interval %+v is not the first of intervals %+v", what, *first, all[0])
	}
	for i, b := range bands {
		got := all[i]
		if got.Level != b.Level || !(got.Low < point && point < got.High) {
			t.Errorf("%s: level %v interval [%v, %v] around %v, want level %v around the forecast", what, got.Level, got.Low, got.High, point, b.Level)
		}
		if hw := b.HalfWidth * scale; math.Abs((point-got.Low)-hw) > 1e-9 || math.Abs((got.High-point)-hw) > 1e-9 {
			t.Errorf("%s: level %v interval [%v, %v] around %v: half-widths %v and %v, want the stored %v × %v",
				what, b.Level, got.Low, got.High, point, point-got.Low, got.High-point, b.HalfWidth, scale)
		}
	}
}

// Every form of /predict answers, beside each forecast, the prediction
// intervals stored with the version that answered: the model's for a
// model (half-widths a share of each window's last Open), the naive
// forecast's own for the naive answer (here in price units), none for a
// version registered before intervals.
func TestPredictAnswersTheStoredIntervals(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sum := bandedSummary(1, 2, metrics.ScaleLastOpen)
	registerBanded(t, store, "NFLX", "r1", 1, sum) // v1: champion, with intervals
	promote(t, store, "NFLX", 1)
	registerModel(t, store, "NFLX", "r0", 2)                           // v2: registered before intervals
	registerBanded(t, store, "AAPL", "a1", 3, bandedSummary(3, 2, "")) // no champion: naive answers
	h := newServerOn(t, store, api.WithManifestRefresh(0))
	open := opens(60)
	model, naive := sum.Intervals.Model, sum.Intervals.Naive

	one, _ := postIntervals(t, h, "/predict", "application/json", predictBody(t, "NFLX", open))
	if one.ModelVersion != 1 {
		t.Fatalf("answered by v%d, want the champion v1", one.ModelVersion)
	}
	wantIntervals(t, "one window", one.Prediction, open[59], one.Interval, one.Intervals, model)

	// A batch: each level's bounds in the order of the predictions.
	var batch struct {
		Predictions []float64           `json:"predictions"`
		Interval    *batchIntervalJSON  `json:"interval"`
		Intervals   []batchIntervalJSON `json:"intervals"`
	}
	rec := do(h, http.MethodPost, "/predict", string(mustJSON(t, map[string]any{"ticker": "NFLX", "windows": [][]float64{open, open[:55]}})))
	if rec.Code != http.StatusOK {
		t.Fatalf("batch: status %d, body %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &batch); err != nil {
		t.Fatal(err)
	}
	if len(batch.Predictions) != 2 || batch.Interval == nil || len(batch.Intervals) != len(model) {
		t.Fatalf("batch: %s", rec.Body)
	}
	for i, last := range []float64{open[59], open[54]} {
		p := batch.Predictions[i]
		var all []intervalJSON
		for _, bi := range batch.Intervals {
			if len(bi.Low) != 2 || len(bi.High) != 2 {
				t.Fatalf("batch level %v: %d lows and %d highs for 2 predictions", bi.Level, len(bi.Low), len(bi.High))
			}
			all = append(all, intervalJSON{Level: bi.Level, Low: bi.Low[i], High: bi.High[i]})
		}
		first := intervalJSON{Level: batch.Interval.Level, Low: batch.Interval.Low[i], High: batch.Interval.High[i]}
		wantIntervals(t, "batch window", p, last, &first, all, model)
	}

	// A price file: every window's forecast.
	up := decodeUpload(t, doBody(h, "/predict?ticker=NFLX", "text/csv", strings.NewReader(priceCSV(open))))
	var file struct {
		Predictions []struct {
			Prediction float64        `json:"prediction"`
			Interval   *intervalJSON  `json:"interval"`
			Intervals  []intervalJSON `json:"intervals"`
		} `json:"predictions"`
	}
	rec = doBody(h, "/predict?ticker=NFLX", "text/csv", strings.NewReader(priceCSV(open)))
	if err := json.Unmarshal(rec.Body.Bytes(), &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Predictions) == 0 || len(file.Predictions) != len(up.Predictions) {
		t.Fatalf("price file: %d predictions", len(file.Predictions))
	}
	for i, p := range file.Predictions {
		wantIntervals(t, "price file window", p.Prediction, open[i+lookback-1], p.Interval, p.Intervals, model)
	}

	// A version from before intervals: the fields are left out.
	if old, body := postIntervals(t, h, "/predict?version=2", "application/json", predictBody(t, "NFLX", open)); old.ModelVersion != 2 ||
		strings.Contains(body, `"interval`) {
		t.Errorf("v2 has no intervals stored, answer %s", body)
	}

	// The naive forecast: the last Open ± naive's own half-widths.
	nv, _ := postIntervals(t, h, "/predict", "application/json", predictBody(t, "AAPL", open))
	if nv.Selection != "naive" || nv.Prediction != open[len(open)-1] {
		t.Fatalf("AAPL: %+v, want the naive forecast", nv)
	}
	wantIntervals(t, "naive", nv.Prediction, 1, nv.Interval, nv.Intervals, naive)
}
