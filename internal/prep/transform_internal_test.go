package prep

import (
	"math"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

func sameOrNaN(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.IsNaN(a[i]) != math.IsNaN(b[i]) || (!math.IsNaN(a[i]) && math.Abs(a[i]-b[i]) > 1e-12) {
			return false
		}
	}
	return true
}

func TestRawFeatureAndLabelsRespectSegments(t *testing.T) {
	nan, l2 := math.NaN(), math.Log(2)
	b := &frame.Bars{
		Date:   make([]time.Time, 5),
		Open:   []float64{1, 2, 4, 8, 16},
		Volume: []float64{0, 99, 9999, -5, 9},
		Breaks: []int{3},
	}
	tests := []struct {
		target, feature string
		horizon         int
		wantFeature     []float64
		wantLabels      []float64
	}{
		{target: TargetPrice, feature: "open", horizon: 1,
			wantFeature: []float64{1, 2, 4, 8, 16}, wantLabels: []float64{2, 4, nan, 16, nan}},
		{target: TargetPrice, feature: "open", horizon: 2,
			wantFeature: []float64{1, 2, 4, 8, 16}, wantLabels: []float64{4, nan, nan, nan, nan}},
		// NaN at row 0 and at the segment start (row 3): no return across a break.
		{target: TargetLogReturn, feature: "open", horizon: 1,
			wantFeature: []float64{nan, l2, l2, nan, l2}, wantLabels: []float64{l2, l2, nan, l2, nan}},
		{target: TargetLogReturn, feature: "open", horizon: 2,
			wantFeature: []float64{nan, l2, l2, nan, l2}, wantLabels: []float64{2 * l2, nan, nan, nan, nan}},
		// Volume differences log(1+v), negative volume counted as 0.
		{target: TargetLogReturn, feature: "volume", horizon: 1,
			wantFeature: []float64{nan, math.Log(100), math.Log(100), nan, math.Log(10)}, wantLabels: []float64{l2, l2, nan, l2, nan}},
		{target: TargetPrice, feature: "volume", horizon: 1,
			wantFeature: []float64{0, 99, 9999, -5, 9}, wantLabels: []float64{2, 4, nan, 16, nan}},
	}
	for _, tc := range tests {
		tr := Transform{Spec: TransformSpec{Target: tc.target, Scaler: ScalerStandard, Features: []string{tc.feature}}, Horizon: tc.horizon}
		if got := tr.rawFeature(b, tc.feature); !sameOrNaN(got, tc.wantFeature) {
			t.Errorf("%s %s: feature %v, want %v", tc.target, tc.feature, got, tc.wantFeature)
		}
		if got := tr.rawLabels(b); !sameOrNaN(got, tc.wantLabels) {
			t.Errorf("%s h=%d: labels %v, want %v", tc.target, tc.horizon, got, tc.wantLabels)
		}
	}
}
