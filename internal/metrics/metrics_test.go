package metrics_test

import (
	"math"
	"testing"

	"github.com/finsight/finsight/internal/metrics"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScoreKnownValues(t *testing.T) {
	tests := []struct {
		name         string
		actual, pred []float64
		want         metrics.Scores
	}{
		{
			// errors +2, -2, +6
			// RMSE = sqrt((4+4+36)/3) = sqrt(44/3) ≈ 3.8297
			// MAE  = (2+2+6)/3 = 10/3 ≈ 3.3333
			// MAPE = 100 * (2/100 + 2/110 + 6/120) / 3 ≈ 2.9394 %
			name:   "three values",
			actual: []float64{100, 110, 120},
			pred:   []float64{102, 108, 126},
			want: metrics.Scores{RMSE: math.Sqrt(44.0 / 3), MAE: 10.0 / 3,
				MAPE: 100 * (0.02 + 2.0/110 + 0.05) / 3, N: 3},
		},
		{
			// errors +5, +10; the zero actual is left out of MAPE only:
			// RMSE = sqrt((25+100)/2), MAE = 7.5, MAPE = 100 * 10/100 = 10 %
			name:   "zero actual skipped by MAPE",
			actual: []float64{0, 100},
			pred:   []float64{5, 110},
			want:   metrics.Scores{RMSE: math.Sqrt(62.5), MAE: 7.5, MAPE: 10, N: 2},
		},
		{
			name:   "perfect forecast",
			actual: []float64{3, 4},
			pred:   []float64{3, 4},
			want:   metrics.Scores{N: 2},
		},
	}
	for _, tc := range tests {
		got, err := metrics.Score(tc.actual, tc.pred)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !near(got.RMSE, tc.want.RMSE) || !near(got.MAE, tc.want.MAE) || !near(float64(got.MAPE), float64(tc.want.MAPE)) || got.N != tc.want.N {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestScoreHandComputedDecimals(t *testing.T) {
	// The same case as above, against decimals worked out by hand, so a
	// formula shared by test and code cannot hide a mistake.
	got, err := metrics.Score([]float64{100, 110, 120}, []float64{102, 108, 126})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.RMSE-3.8297) > 1e-4 || math.Abs(got.MAE-3.3333) > 1e-4 || math.Abs(float64(got.MAPE)-2.9394) > 1e-4 {
		t.Fatalf("got %+v, want RMSE 3.8297, MAE 3.3333, MAPE 2.9394", got)
	}
}

func TestScoreMAPEUndefinedWhenAllActualsZero(t *testing.T) {
	got, err := metrics.Score([]float64{0, 0}, []float64{1, -1})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(got.MAPE)) || got.MAE != 1 || got.RMSE != 1 {
		t.Fatalf("got %+v, want MAPE NaN, MAE 1, RMSE 1", got)
	}
}

func TestScoreErrors(t *testing.T) {
	tests := []struct {
		name         string
		actual, pred []float64
	}{
		{"length mismatch", []float64{1, 2}, []float64{1}},
		{"empty", nil, nil},
		{"empty actual", []float64{}, []float64{1}},
	}
	for _, tc := range tests {
		if _, err := metrics.Score(tc.actual, tc.pred); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
