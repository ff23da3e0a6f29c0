package metrics_test

import (
	"math"
	"testing"

	"github.com/finsight/finsight/internal/metrics"
)

func TestCumulativeSquaredErrorDiffHandComputed(t *testing.T) {
	actual := []float64{10, 11, 12, 13, 14}
	model := []float64{11, 11, 15, 13, math.NaN()}
	naive := []float64{12, 10, 11, 13, 15}
	// day  model err  naive err  naive² − model²  running sum
	// 1    +1         +2         4 − 1 = 3        3
	// 2     0         −1         1 − 0 = 1        4
	// 3    +3         −1         1 − 9 = −8       −4
	// 4     0          0         0                −4
	// 5    NaN        +1         skipped          −4
	want := []float64{3, 4, -4, -4, -4}
	got, err := metrics.CumulativeSquaredErrorDiff(actual, model, naive)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("day %d: got %v, want %v (all %v)", i+1, got[i], want[i], got)
		}
	}
}

func TestCumulativeSquaredErrorDiffRejectsLengthMismatch(t *testing.T) {
	if _, err := metrics.CumulativeSquaredErrorDiff([]float64{1, 2}, []float64{1, 2}, []float64{1}); err == nil {
		t.Error("naive of another length accepted")
	}
	if _, err := metrics.CumulativeSquaredErrorDiff([]float64{1, 2}, []float64{1}, []float64{1, 2}); err == nil {
		t.Error("model of another length accepted")
	}
	got, err := metrics.CumulativeSquaredErrorDiff(nil, nil, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("empty input: %v, %v", got, err)
	}
}
