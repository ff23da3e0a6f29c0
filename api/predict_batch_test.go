package api_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

// A batch answers one prediction per window, in order, each the single
// window's answer; windows may be lists of Opens or objects.
func TestPredictBatchOfWindows(t *testing.T) {
	h, _, weights := newServer(t)
	all := opens(90)
	windows := [][]float64{all[:60], all[30:], all[10 : lookback+10]}
	b := postJSON(t, h, "/predict", map[string]any{"ticker": "nflx", "windows": windows})
	if b.Ticker != "NFLX" || b.ModelVersion != 1 || b.Selection != "champion" || b.HorizonDays != 1 || len(b.Predictions) != len(windows) {
		t.Fatalf("batch answer %+v", b)
	}
	for i, w := range windows {
		want := expectedPrediction(t, weights, w)
		if math.Abs(b.Predictions[i]-want) > 1e-6 {
			t.Errorf("window %d: %v, want %v", i, b.Predictions[i], want)
		}
		if single := predictOK(t, h, "NFLX", w); math.Abs(single.Prediction-b.Predictions[i]) > 1e-6 {
			t.Errorf("window %d: batch %v, single request %v", i, b.Predictions[i], single.Prediction)
		}
	}
	if b.Predictions[0] == b.Predictions[1] {
		t.Fatal("two windows predict the same: the check cannot tell them apart")
	}
	objects := postJSON(t, h, "/predict", map[string]any{"ticker": "NFLX", "windows": []map[string]any{{"open": windows[0]}, {"open": windows[1]}}})
	if len(objects.Predictions) != 2 || objects.Predictions[0] != b.Predictions[0] || objects.Predictions[1] != b.Predictions[1] {
		t.Fatalf("windows as objects: %v, as lists %v", objects.Predictions, b.Predictions[:2])
	}
}

func TestPredictBatchErrors(t *testing.T) {
	h, _, _ := newServer(t)
	good := string(mustJSON(t, opens(60)))
	zero := append(opens(60)[:59:59], 0)
	for _, tc := range []struct {
		name    string
		body    string
		status  int
		mention string
	}{
		{"no windows", `{"ticker":"NFLX","windows":[]}`, http.StatusBadRequest, "windows is empty"},
		{"open and windows", `{"ticker":"NFLX","open":` + good + `,"windows":[` + good + `]}`, http.StatusBadRequest, "not both"},
		{"zero price", `{"ticker":"NFLX","windows":[` + good + `,` + string(mustJSON(t, zero)) + `]}`, http.StatusBadRequest, "windows[1]: open[59]"},
		{"too short", `{"ticker":"NFLX","windows":[` + good + `,[12,13]]}`, http.StatusBadRequest, "windows[1]"},
		{"empty window", `{"ticker":"NFLX","windows":[[]]}`, http.StatusBadRequest, "windows[0]"},
		{"not a window", `{"ticker":"NFLX","windows":["12,13"]}`, http.StatusBadRequest, "windows[0]"},
		{"unknown field", `{"ticker":"NFLX","windows":[{"open":` + good + `,"opn":[1]}]}`, http.StatusBadRequest, "opn"},
		{"strings", `{"ticker":"NFLX","windows":[["12"]]}`, http.StatusBadRequest, "windows[0]"},
		{"unknown ticker", `{"ticker":"AAPL","windows":[` + good + `]}`, http.StatusNotFound, "AAPL"},
		{"unknown version", `{"ticker":"NFLX","windows":[` + good + `]}`, http.StatusNotFound, "version 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/predict"
			if tc.name == "unknown version" {
				path += "?version=7"
			}
			msg := errorMessage(t, do(h, http.MethodPost, path, tc.body), tc.status)
			if !strings.Contains(msg, tc.mention) {
				t.Errorf("error %q does not mention %q", msg, tc.mention)
			}
		})
	}
}

// A model that reads more than the Open takes its windows as objects; a
// bare list of Opens is refused, saying so.
func TestPredictBatchMultiFeatureModel(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr := prep.Transform{
		Spec:     prep.TransformSpec{Target: prep.TargetLogReturn, Scaler: prep.ScalerStandard, Features: []string{"open", "volume"}},
		Features: []prep.Affine{{Name: "open", Shift: 0, Scale: 0.03}, {Name: "volume", Shift: 0, Scale: 0.4}},
		Label:    prep.Affine{Name: "label", Shift: 0, Scale: 0.03},
		Horizon:  1,
	}
	cfg := arch.Config{Features: 2, Lookback: lookback - 1, Layers: 1, Units: 8, Seed: 3}
	m, err := model.New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	weights, err := m.MarshalWeights()
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		registry.FileWeights: weights,
		registry.FileScaler:  mustJSON(t, tr),
		registry.FileConfig:  mustJSON(t, model.ArtifactConfig{Model: cfg, Lookback: lookback, Horizon: 1}),
		registry.FileMetrics: []byte(`{"test_rmse":1}`),
		registry.FileLineage: []byte(`{"run_id":"r1"}`),
	}
	if _, err := (registry.Registry{Store: store}).Register(context.Background(), "NFLX", registry.Version{RunID: "r1"}, files); err != nil {
		t.Fatal(err)
	}
	promote(t, store, "NFLX", 1)
	h := newServerOn(t, store)

	open := opens(70)
	volume := make([]float64, len(open))
	for i := range volume {
		volume[i] = 1e6 * (1 + 0.3*math.Cos(float64(i)))
	}
	windows := []map[string]any{{"open": open[:60], "volume": volume[:60]}, {"open": open[10:], "volume": volume[10:]}}
	b := postJSON(t, h, "/predict", map[string]any{"ticker": "NFLX", "windows": windows})
	for i, w := range windows {
		single := postJSON(t, h, "/predict", map[string]any{"ticker": "NFLX", "open": w["open"], "volume": w["volume"]})
		if math.Abs(single.Prediction-b.Predictions[i]) > 1e-6 {
			t.Errorf("window %d: batch %v, single request %v", i, b.Predictions[i], single.Prediction)
		}
	}
	msg := errorMessage(t, do(h, http.MethodPost, "/predict", string(mustJSON(t, map[string]any{"ticker": "NFLX", "windows": [][]float64{open[:60]}}))),
		http.StatusBadRequest)
	if !strings.Contains(msg, "windows[0]") || !strings.Contains(msg, `"volume"`) || !strings.Contains(msg, "object") {
		t.Errorf("a list of Opens for an Open+Volume model: %q", msg)
	}
}
