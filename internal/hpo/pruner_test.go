package hpo

import (
	"math"
	"testing"
)

func TestMedianPruner(t *testing.T) {
	// At epoch 2 the others' values are 0.8, 1.0, 0.7: median 0.8.
	// Only the first two reach epoch 3 (0.6, 0.9): median 0.75.
	others := [][]float64{{1.0, 0.8, 0.6}, {1.2, 1.0, 0.9}, {0.9, 0.7}}
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		p      MedianPruner
		epoch  int
		value  float64
		others [][]float64
		want   bool
	}{
		{"worse than median pruned", MedianPruner{Warmup: 1, MinTrials: 2}, 2, 0.95, others, true},
		{"better kept", MedianPruner{Warmup: 1, MinTrials: 2}, 2, 0.7, others, false},
		{"equal to median kept", MedianPruner{Warmup: 1, MinTrials: 2}, 2, 0.8, others, false},
		{"just above median pruned", MedianPruner{Warmup: 1, MinTrials: 2}, 2, 0.8000001, others, true},
		{"within warmup kept", MedianPruner{Warmup: 2, MinTrials: 1}, 2, 5, others, false},
		{"first epoch after warmup pruned", MedianPruner{Warmup: 1, MinTrials: 1}, 2, 5, others, true},
		{"zero warmup prunes at epoch 1", MedianPruner{}, 1, 1.1, others, true},
		{"epoch 0 never", MedianPruner{}, 0, 5, others, false},
		{"too few reached epoch 3", MedianPruner{Warmup: 1, MinTrials: 3}, 3, 5, others, false},
		{"enough reached epoch 3", MedianPruner{Warmup: 1, MinTrials: 2}, 3, 0.76, others, true},
		{"shorter curves ignored", MedianPruner{Warmup: 1, MinTrials: 2}, 3, 0.72, others, false}, // counting the short curve's last value, 0.7, would make the median 0.7 and prune
		{"no others", MedianPruner{}, 2, 5, nil, false},
		{"beyond every curve", MedianPruner{}, 4, 5, others, false},
		{"NaN others ignored", MedianPruner{MinTrials: 2}, 1, 5, [][]float64{{nan}, {nan}, {1}}, false},
		{"NaN value pruned", MedianPruner{Warmup: 0, MinTrials: 1}, 1, nan, others, true},
		{"NaN value kept in warmup", MedianPruner{Warmup: 1, MinTrials: 1}, 1, nan, others, false},
		{"infinite value pruned", MedianPruner{}, 1, math.Inf(1), others, true},
		{"even count averages the middle two", MedianPruner{}, 1, 1.0, [][]float64{{0.5}, {0.9}, {1.1}, {3}}, false},
		{"even count, above the average", MedianPruner{}, 1, 1.01, [][]float64{{0.5}, {0.9}, {1.1}, {3}}, true},
		// The reference is each curve's value at the epoch (as Optuna), not
		// its best so far: here 0.9/1.0/1.1 (median 1.0), not 0.5/0.6/0.7.
		{"others' value at the epoch, not their best", MedianPruner{}, 2, 0.8, [][]float64{{0.5, 0.9}, {0.6, 1.0}, {0.7, 1.1}}, false},
	} {
		if got := tc.p.ShouldPrune(tc.epoch, tc.value, tc.others); got != tc.want {
			t.Errorf("%s: ShouldPrune(%d, %v) = %v, want %v", tc.name, tc.epoch, tc.value, got, tc.want)
		}
	}
}

func TestMedianPrunerLeavesCurvesAlone(t *testing.T) {
	others := [][]float64{{3}, {1}, {2}}
	MedianPruner{}.ShouldPrune(1, 5, others)
	if others[0][0] != 3 || others[1][0] != 1 || others[2][0] != 2 {
		t.Fatalf("curves reordered: %v", others)
	}
}
