package backtest_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/backtest"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestSummarizeHandComputed(t *testing.T) {
	folds := []backtest.FoldForecasts{
		{
			Fold: 0, Actual: []float64{11, 9, 12, 10}, Last: []float64{10, 10, 10, 10},
			Models: []backtest.ModelForecast{{Model: "lstm", Pred: []float64{10.5, 9.5, 9, 11}}},
		},
		{
			Fold: 1, Actual: []float64{10, 12}, Last: []float64{10, 11},
			Models: []backtest.ModelForecast{
				{Model: "naive", Pred: []float64{10, 11}},
				{Model: "lstm", Pred: []float64{10, 11.5}},
			},
		},
	}
	got, err := backtest.Summarize(folds, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Model != "lstm" || got[1].Model != "naive" {
		t.Fatalf("models %+v, want lstm then naive (order of first appearance)", got)
	}
	lstm := got[0]
	// Fold 0: errors −0.5, 0.5, −3, 1: MAE 1.25, RMSE √(10.5/4) = 1.620185;
	//   naive errors −1, 1, −2, 0: MAE 1, so MASE 1.25; directions hit,
	//   hit, miss, (no move) → 2/3.
	// Fold 1: errors 0, −0.5: MAE 0.25, RMSE √(0.25/2) = 0.353553; naive
	//   MAE 0.5, MASE 0.5 (beats naive); one move, hit → 1.
	// Across folds: MAE mean 0.75, sample std √(0.5²+0.5²) = 0.707107;
	//   MASE mean 0.875, std √(2·0.375²) = 0.530330; RMSE mean 0.986869;
	//   direction mean 5/6.
	// Pooled DM: d = e_model² − e_naive² = −0.75, −0.75, 5, 1, 0, −0.75;
	//   mean 0.625; Σ(d−mean)² = 3·1.890625 + 19.140625 + 0.140625 +
	//   0.390625 = 25.34375, γ0 = 4.223958; stat = 0.625/√(γ0/6) = 0.744896.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"MAE mean", float64(lstm.MAE.Mean), 0.75},
		{"MAE std", float64(lstm.MAE.Std), 0.707107},
		{"MAE min", float64(lstm.MAE.Min), 0.25},
		{"MAE max", float64(lstm.MAE.Max), 1.25},
		{"RMSE mean", float64(lstm.RMSE.Mean), 0.986869},
		{"MASE mean", float64(lstm.MASE.Mean), 0.875},
		{"MASE std", float64(lstm.MASE.Std), 0.530330},
		{"direction mean", float64(lstm.DirectionalAccuracy.Mean), 0.833333},
		{"pooled DM", float64(lstm.PooledDMStat), 0.744896},
	}
	for _, c := range checks {
		if !near(c.got, c.want, 1e-6) {
			t.Errorf("%s: got %.6f, want %.6f", c.name, c.got, c.want)
		}
	}
	if lstm.Folds != 2 || lstm.BeatNaive != 1 || lstm.PooledN != 6 || lstm.MASE.N != 2 {
		t.Errorf("folds %d, beat naive %d, pooled n %d, MASE n %d: want 2, 1, 6, 2", lstm.Folds, lstm.BeatNaive, lstm.PooledN, lstm.MASE.N)
	}
	if len(lstm.PerFold) != 2 || lstm.PerFold[1].Fold != 1 || lstm.PerFold[1].Model.MAE != 0.25 {
		t.Errorf("per fold %+v", lstm.PerFold)
	}

	// Naive against itself: MASE 1 (not a win), no loss difference to
	// test, and one fold has no spread; all must still be valid JSON.
	naive := got[1]
	if naive.Folds != 1 || naive.BeatNaive != 0 || float64(naive.MASE.Mean) != 1 ||
		!math.IsNaN(float64(naive.PooledDMStat)) || !math.IsNaN(float64(naive.MAE.Std)) {
		t.Errorf("naive summary %+v", naive)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("summaries are not JSON: %v", err)
	}
	if !strings.Contains(string(b), `"pooled_dm_stat":null`) || !strings.Contains(string(b), `"std":null`) {
		t.Errorf("undefined values are not written as null: %s", b)
	}
}

func TestSummarizeLeavesUndefinedFoldsOutOfSpread(t *testing.T) {
	// Fold 1 has no price move: naive makes no error, so MASE and
	// directional accuracy are undefined there and must not drag the
	// means; MAE still counts both folds ((1.25 + 0.5) / 2).
	folds := []backtest.FoldForecasts{
		{Fold: 0, Actual: []float64{11, 9, 12, 10}, Last: []float64{10, 10, 10, 10},
			Models: []backtest.ModelForecast{{Model: "m", Pred: []float64{10.5, 9.5, 9, 11}}}},
		{Fold: 1, Actual: []float64{5, 5}, Last: []float64{5, 5},
			Models: []backtest.ModelForecast{{Model: "m", Pred: []float64{5, 6}}}},
	}
	got, err := backtest.Summarize(folds, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0]
	if m.MASE.N != 1 || float64(m.MASE.Mean) != 1.25 || m.DirectionalAccuracy.N != 1 || m.MAE.N != 2 || float64(m.MAE.Mean) != 0.875 || m.BeatNaive != 0 {
		t.Fatalf("summary %+v", m)
	}
}

func TestSummarizeRefusesBadInput(t *testing.T) {
	good := func() backtest.FoldForecasts {
		return backtest.FoldForecasts{Fold: 3, Actual: []float64{1, 2}, Last: []float64{1, 1},
			Models: []backtest.ModelForecast{{Model: "m", Pred: []float64{1, 2}}}}
	}
	short := good()
	short.Models[0].Pred = []float64{1}
	twice := good()
	twice.Models = append(twice.Models, twice.Models[0])
	tests := []struct {
		name    string
		folds   []backtest.FoldForecasts
		horizon int
		want    string
	}{
		{"no folds", nil, 1, "no folds"},
		{"no horizon", []backtest.FoldForecasts{good()}, 0, "horizon"},
		{"short predictions", []backtest.FoldForecasts{short}, 1, `fold 3, model "m"`},
		{"model twice", []backtest.FoldForecasts{twice}, 1, "twice"},
	}
	for _, tc := range tests {
		if _, err := backtest.Summarize(tc.folds, tc.horizon); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}
