package backtest_test

import (
	"math"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

// spike is far above any price of the synthetic series, so one spiked row
// in a fitted range or a window shows in its maximum.
const spike = 1e6

// TestFoldsNeverSeeTheFuture plants, for each fold in turn, a spike on
// every row from the fold's test start on (the whole future as the fold
// sees it) and fits the pipeline's own scalers and windows on the fold's
// ranges: no training or validation range, no scaler fitted on training
// rows, and no test window's inputs may contain a spiked row, while every
// test target is one.
func TestFoldsNeverSeeTheFuture(t *testing.T) {
	specs := map[string]backtest.Spec{
		"expanding":           {Folds: 5, Lookback: 10},
		"sliding horizon 2":   {Folds: 4, Mode: backtest.Sliding, TestLen: 20, Step: 25, Lookback: 8, Horizon: 2, ValLen: 15},
		"expanding min_train": {Folds: 3, TestLen: 30, Lookback: 5, MinTrain: 100, ValFraction: 0.2},
	}
	const rows = 300
	for name, s := range specs {
		t.Run(name, func(t *testing.T) {
			folds, err := s.Plan(rows)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range folds {
				bars := seriesWithFutureSpike(rows, f.Test.Start)
				checkFoldSeesNoSpike(t, s, f, bars)
			}
		})
	}
}

func checkFoldSeesNoSpike(t *testing.T, s backtest.Spec, f backtest.Fold, bars *frame.Bars) {
	t.Helper()
	h := max(s.Horizon, 1)
	spec := prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"open", "high"}}
	tr, err := prep.FitTransform(spec, bars.Slice(f.Train.Start, f.Train.End), h)
	if err != nil {
		t.Fatalf("fold %d: fit on training rows: %v", f.Index, err)
	}
	for _, a := range append(tr.Features, tr.Label) {
		if a.Max >= spike {
			t.Fatalf("fold %d: the %s scaler fitted on training rows %+v saw the future (max %g)", f.Index, a.Name, f.Train, a.Max)
		}
	}
	if m := maxOpen(bars, f.Validation); m >= spike {
		t.Fatalf("fold %d: validation rows %+v contain the future", f.Index, f.Validation)
	}
	val, err := prep.MakeWindows(bars.Slice(f.ValidationInput.Start, f.ValidationInput.End), tr, s.Lookback)
	if err != nil {
		t.Fatalf("fold %d: validation windows: %v", f.Index, err)
	}
	if len(val.Y) != f.Validation.Len() {
		t.Fatalf("fold %d: %d validation windows for %d validation rows", f.Index, len(val.Y), f.Validation.Len())
	}
	for j, y := range val.Target {
		if y >= spike {
			t.Fatalf("fold %d: validation window %d targets the future", f.Index, j)
		}
	}
	test, err := prep.MakeWindows(bars.Slice(f.TestInput.Start, f.TestInput.End), tr, s.Lookback)
	if err != nil {
		t.Fatalf("fold %d: test windows: %v", f.Index, err)
	}
	if len(test.Y) != f.Test.Len() || !test.TargetDate[0].Equal(bars.Date[f.Test.Start]) {
		t.Fatalf("fold %d: %d test windows from %v, want %d from %v", f.Index, len(test.Y), test.TargetDate[0], f.Test.Len(), bars.Date[f.Test.Start])
	}
	// The first window forecasts the first spiked row from rows before
	// it: none of its inputs may be spiked, its target must be.
	for i, x := range test.X[:test.Lookback*test.Features] {
		a := tr.Features[i%test.Features]
		if raw := float64(x)*a.Scale + a.Shift; raw >= spike/2 {
			t.Fatalf("fold %d: the first test window reads the future (%s %g)", f.Index, a.Name, raw)
		}
	}
	if test.Last[0] >= spike || test.Target[0] < spike {
		t.Fatalf("fold %d: first test window last input %g, target %g: want past input, spiked target", f.Index, test.Last[0], test.Target[0])
	}
}

func maxOpen(b *frame.Bars, r backtest.Range) float64 {
	m := math.Inf(-1)
	for i := r.Start; i < r.End; i++ {
		m = math.Max(m, b.Open[i])
	}
	return m
}

// seriesWithFutureSpike is a smooth synthetic price series whose rows from
// future on are spikes.
func seriesWithFutureSpike(rows, future int) *frame.Bars {
	b := frame.NewBars("SPIKE", rows)
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < rows; i++ {
		p := 100 + 10*math.Sin(float64(i)/7) + 0.05*float64(i)
		if i >= future {
			p = spike + float64(i)
		}
		b.Date = append(b.Date, day.AddDate(0, 0, i))
		b.Open = append(b.Open, p)
		b.High = append(b.High, p*1.01)
		b.Low = append(b.Low, p*0.99)
		b.Close = append(b.Close, p)
		b.AdjClose = append(b.AdjClose, p)
		b.Volume = append(b.Volume, 1e6)
	}
	return b
}
