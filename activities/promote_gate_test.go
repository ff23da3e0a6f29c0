package activities

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// The backtest gate promotes on the pooled Diebold–Mariano test alone: a
// model significantly better than naive across the folds (DM < 0, p < α)
// is champion even when its one test split is worse than naive; not
// significant, significantly worse or undefined, it is challenger even
// when its test split beats naive. The reason quotes the evidence.
func TestBacktestGate(t *testing.T) {
	actual := []float64{10, 11, 12, 13}
	naive := []float64{9, 10, 11, 12}       // RMSE 1
	good := []float64{10.2, 11.2, 11.8, 13} // RMSE ≈ 0.17
	bad := []float64{8, 13, 10, 15}         // RMSE 2
	nan := metrics.Maybe(math.NaN())
	for _, tc := range []struct {
		name     string
		model    []float64
		ev       *steps.BacktestEvidence
		alpha    float64
		promoted bool
		says     string
	}{
		{"significantly better, split worse", bad, &steps.BacktestEvidence{Folds: 5, PooledN: 400, DMStat: -2.1, DMPValue: 0.036}, 0,
			true, "no champion yet; backtest over 5 folds (400 days): pooled DM -2.10, p = 0.036 < α 0.05: significantly better than naive"},
		{"not significant at the default α", good, &steps.BacktestEvidence{Folds: 5, PooledN: 400, DMStat: -0.6, DMPValue: 0.52}, 0,
			false, "p = 0.52 ≥ α 0.05: not significantly better than naive: not promoted"},
		{"not significant at a stricter α", good, &steps.BacktestEvidence{Folds: 5, PooledN: 400, DMStat: -2.1, DMPValue: 0.036}, 0.01,
			false, "p = 0.036 ≥ α 0.01"},
		{"significantly worse", good, &steps.BacktestEvidence{Folds: 3, PooledN: 300, DMStat: 3.2, DMPValue: 0.000012}, 0,
			false, "pooled DM 3.20, p = 1.2e-05 < α 0.05: significantly worse than naive: not promoted"},
		{"undefined", good, &steps.BacktestEvidence{Folds: 3, PooledN: 300, DMStat: nan, DMPValue: nan}, 0,
			false, "pooled DM undefined, p = undefined: no evidence the model beats naive: not promoted"},
		{"no pooled days", good, &steps.BacktestEvidence{Folds: 3, DMStat: -5, DMPValue: 0.0001}, 0,
			false, "no backtest forecasts"},
		{"no evidence", good, nil, 0, false, "no backtest forecasts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := preds(actual, tc.model, naive)
			got := judge(p, nil, steps.PromoteInput{Gate: pipeline.GateBacktest, Alpha: tc.alpha, Backtest: tc.ev, Margin: 1000})
			if got.Promoted != tc.promoted || !strings.Contains(got.Reason, tc.says) {
				t.Fatalf("promoted %v (%s), want %v and a reason saying %q", got.Promoted, got.Reason, tc.promoted, tc.says)
			}
			wantAlpha := tc.alpha
			if wantAlpha == 0 {
				wantAlpha = pipeline.DefaultGateAlpha
			}
			if got.Gate != pipeline.GateBacktest || got.Alpha != wantAlpha || got.Days != 4 || got.NaiveRMSE != 1 {
				t.Fatalf("promotion %+v: want the backtest gate at α %v, with the split's scores beside it", got, wantAlpha)
			}
			if tc.ev != nil && tc.ev.PooledN > 0 && (got.Folds != tc.ev.Folds || !sameMaybe(got.DMPValue, tc.ev.DMPValue) || !sameMaybe(got.DMStat, tc.ev.DMStat)) {
				t.Fatalf("promotion records folds %d, DM %v p %v; want the evidence's %+v", got.Folds, got.DMStat, got.DMPValue, *tc.ev)
			}
		})
	}
}

// With a champion, the backtest gate still needs the model to beat the
// champion on the same test days; the reason says both.
func TestBacktestGateStillComparesWithTheChampion(t *testing.T) {
	actual := []float64{10, 11, 12, 13}
	p, dates := preds(actual, []float64{10.5, 11.5, 12.5, 12.5}, []float64{9, 10, 11, 12})
	better := &steps.BacktestEvidence{Folds: 5, PooledN: 400, DMStat: -2.1, DMPValue: 0.036}
	in := steps.PromoteInput{Gate: pipeline.GateBacktest, Backtest: better}
	champ := func(v ...float64) map[time.Time]float64 {
		m := map[time.Time]float64{}
		for i, d := range dates {
			m[d] = v[i]
		}
		return m
	}
	if got := judge(p, champ(10, 11, 12, 13), in); got.Promoted || !strings.Contains(got.Reason, "does not beat the champion; backtest over 5 folds") {
		t.Fatalf("promoted %v (%s): want challenger, beaten by the champion, with the backtest quoted", got.Promoted, got.Reason)
	}
	if got := judge(p, champ(8, 13, 10, 15), in); !got.Promoted || !strings.Contains(got.Reason, "p = 0.036 < α 0.05: better than both") {
		t.Fatalf("promoted %v (%s): want champion, better than both", got.Promoted, got.Reason)
	}
}

// The split gate is today's rule and records itself.
func TestSplitGateIsRecorded(t *testing.T) {
	p, _ := preds([]float64{10, 11}, []float64{10, 11}, []float64{9, 10})
	got := judge(p, nil, steps.PromoteInput{Backtest: &steps.BacktestEvidence{Folds: 5, PooledN: 10, DMStat: 4, DMPValue: 0.001}})
	if !got.Promoted || got.Gate != pipeline.GateSplit || got.Folds != 0 || !strings.Contains(got.Reason, "not worse than naive") {
		t.Fatalf("promotion %+v: want the split gate, ignoring backtest evidence", got)
	}
}

func sameMaybe(a, b metrics.Maybe) bool {
	return a == b || (math.IsNaN(float64(a)) && math.IsNaN(float64(b)))
}
