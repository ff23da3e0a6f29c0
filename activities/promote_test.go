package activities

import (
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

func preds(actual, model, naive []float64) (*frame.Predictions, []time.Time) {
	p := &frame.Predictions{Actual: actual, Predicted: model, Naive: naive}
	for i := range actual {
		p.Date = append(p.Date, time.Date(2024, 1, 2+i, 0, 0, 0, 0, time.UTC))
	}
	return p, p.Date
}

func TestPromotionGate(t *testing.T) {
	actual := []float64{10, 11, 12, 13}
	naive := []float64{9, 10, 11, 12}       // RMSE 1
	good := []float64{10.2, 11.2, 11.8, 13} // RMSE ≈ 0.17
	bad := []float64{8, 13, 10, 15}         // RMSE 2
	champAt := func(dates []time.Time, v []float64) map[time.Time]float64 {
		m := map[time.Time]float64{}
		for i, d := range dates {
			m[d] = v[i]
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		model    []float64
		champ    []float64 // nil: no champion
		margin   float64
		promoted bool
		says     string
	}{
		{"first model, better than naive", good, nil, 0, true, "no champion yet"},
		{"first model, worse than naive", bad, nil, 0, false, "worse than the naive forecast"},
		{"worse than naive within a 150% margin", bad, nil, 1.5, true, "not worse than naive"},
		{"beats the champion and naive", good, []float64{10.5, 11.5, 12.5, 12.5}, 0, true, "better than both"},
		{"does not beat the champion", []float64{10.5, 11.5, 12.5, 12.5}, good, 0, false, "does not beat the champion"},
		{"beats the champion but not naive", []float64{8.5, 12.5, 11, 14}, bad, 0, false, "worse than the naive forecast"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, dates := preds(actual, tc.model, naive)
			var champ map[time.Time]float64
			if tc.champ != nil {
				champ = champAt(dates, tc.champ)
			}
			got := judge(p, champ, tc.margin)
			if got.Promoted != tc.promoted || !strings.Contains(got.Reason, tc.says) {
				t.Fatalf("promoted %v (%s), want %v and a reason saying %q", got.Promoted, got.Reason, tc.promoted, tc.says)
			}
			if got.Days != 4 {
				t.Fatalf("compared %d days, want 4", got.Days)
			}
		})
	}
}

func TestPromotionComparesOnlyCommonDays(t *testing.T) {
	p, dates := preds([]float64{10, 11, 12, 13}, []float64{10, 11, 12, 20}, []float64{9, 10, 11, 12})
	// The champion only forecast the first three days (a longer lookback):
	// the new model's big miss on day 4 must not count.
	champ := map[time.Time]float64{dates[0]: 10.5, dates[1]: 11.5, dates[2]: 12.5}
	got := judge(p, champ, 0)
	if got.Days != 3 || !got.Promoted || got.RMSE != 0 {
		t.Fatalf("judge = %+v, want 3 common days, RMSE 0, promoted", got)
	}
}
