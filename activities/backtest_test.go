package activities

import (
	"context"
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// futureSpike is far above every price of spikySeries, so a spiked row
// seen by a scaler or a training window shows in its maximum.
const futureSpike = 1e6

// spikySeries is a smooth daily series whose rows from future on are
// spikes (future < 0: none).
func spikySeries(rows, future int) *frame.Bars {
	b := frame.NewBars("SPIKE", rows)
	day := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		p := 100 + 10*math.Sin(float64(i)/9) + 0.1*float64(i)
		if future >= 0 && i >= future {
			p = futureSpike + float64(i)
		}
		b.Date = append(b.Date, day.AddDate(0, 0, i))
		b.Open = append(b.Open, p)
		b.High = append(b.High, p*1.01)
		b.Low = append(b.Low, p*0.99)
		b.Close = append(b.Close, p*1.001)
		b.AdjClose = append(b.AdjClose, p*1.001)
		b.Volume = append(b.Volume, 1e6+float64(i))
	}
	return b
}

// putSeries stores b under a key derived from name.
func (h *harness) putSeries(name string, b *frame.Bars) blob.Ref {
	h.t.Helper()
	ref, err := h.acts.writeBars(context.Background(), "test-series", name, b)
	if err != nil {
		h.t.Fatal(err)
	}
	return ref
}

// For every fold, the whole future as that fold sees it (every row from
// its test start on) is a spike: the fold's scaler, training windows and
// validation windows must never contain one, while its test windows are
// one per test row and forecast the spike from rows before it.
func TestBacktestFoldDataNeverSeesTheFuture(t *testing.T) {
	h := newHarness(t)
	spec := backtest.Spec{Folds: 3, Lookback: 10, Mode: backtest.Sliding, TestLen: 40, Step: 50}
	folds, err := spec.Plan(400)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	transform := prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"open", "high", "volume"}}
	for _, f := range folds {
		series := h.putSeries(fmt.Sprintf("spike-from-%d", f.Test.Start), spikySeries(400, f.Test.Start))
		var got steps.BacktestFoldDataResult
		if err := h.run(h.acts.BacktestFoldData, steps.BacktestFoldDataInput{Series: series, Fold: f, Spec: transform, Lookback: 10, Horizon: 1}, &got); err != nil {
			t.Fatalf("fold %d: %v", f.Index, err)
		}
		var tr prep.Transform
		if err := h.acts.readJSON(ctx, got.Transform, &tr); err != nil {
			t.Fatal(err)
		}
		for _, a := range append(tr.Features, tr.Label) {
			if a.Name != "volume" && a.Max >= futureSpike {
				t.Fatalf("fold %d: the %s scaler saw the future (max %g)", f.Index, a.Name, a.Max)
			}
		}
		if got.TrainMax >= futureSpike {
			t.Fatalf("fold %d: largest training Open %g is a spike", f.Index, got.TrainMax)
		}
		for i, ref := range []blob.Ref{got.Windows.Train, got.Windows.Val} {
			w, err := h.acts.readWindows(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			for j := range w.Target {
				if w.Target[j] >= futureSpike || w.Last[j] >= futureSpike {
					t.Fatalf("fold %d: %s window %d reads the future", f.Index, splitNames[i], j)
				}
			}
		}
		test, err := h.acts.readWindows(ctx, got.Windows.Test)
		if err != nil {
			t.Fatal(err)
		}
		if test.Len() != f.Test.Len() || test.Last[0] >= futureSpike || test.Target[0] < futureSpike {
			t.Fatalf("fold %d: %d test windows for %d rows, first last %g, first target %g", f.Index, test.Len(), f.Test.Len(), test.Last[0], test.Target[0])
		}
	}
}

// A fold whose ranges do not fit the series is refused, not cut short.
func TestBacktestFoldDataRefusesAForeignFold(t *testing.T) {
	h := newHarness(t)
	folds, err := backtest.Spec{Folds: 2, Lookback: 10}.Plan(400)
	if err != nil {
		t.Fatal(err)
	}
	series := h.putSeries("300-rows", spikySeries(300, -1))
	var got steps.BacktestFoldDataResult
	err = h.run(h.acts.BacktestFoldData, steps.BacktestFoldDataInput{Series: series, Fold: folds[1],
		Spec: prep.DefaultTransformSpec(), Lookback: 10, Horizon: 1}, &got)
	assertAppError(t, err, steps.ErrInvalidParams)
}

// One fold end to end on the activities: plan, data, a tiny model trained
// for one epoch, then scoring. Every model forecasts the same days; naive
// is the last known Open, drift and EWMA match a direct computation from
// the series; the bands are calibrated per model and measured on the test
// block; summary and report are written.
func TestBacktestScoreAlignsModelAndBaselines(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	bars := spikySeries(360, -1)
	splits := steps.Splits{}
	for i, r := range [][2]int{{0, 250}, {250, 300}, {300, 360}} {
		ref, err := h.acts.writeBars(ctx, "test-split", i, bars.Slice(r[0], r[1]))
		if err != nil {
			t.Fatal(err)
		}
		*splits.Parts()[i] = ref
	}
	var plan steps.BacktestPlanResult
	if err := h.run(h.acts.BacktestPlan, steps.BacktestPlanInput{Cleaned: splits, Spec: backtest.Spec{Folds: 2, Lookback: 10, TestLen: 40}}, &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Series.Rows != 360 || len(plan.Folds) != 2 || plan.Folds[1].Test.End != 360 {
		t.Fatalf("plan %+v", plan)
	}
	f := plan.Folds[1]
	var data steps.BacktestFoldDataResult
	if err := h.run(h.acts.BacktestFoldData, steps.BacktestFoldDataInput{Series: plan.Series, Fold: f, Spec: prep.DefaultTransformSpec(), Lookback: 10, Horizon: 1}, &data); err != nil {
		t.Fatal(err)
	}
	var trained steps.TrainResult
	if err := h.run(h.acts.Train, steps.TrainInput{RunID: "bt-fold-1", Windows: data.Windows,
		Params: pipeline.ModelParams{Layers: 1, Units: 4, Epochs: 1, BatchSize: 32, LearningRate: 1e-3, Seed: 1}}, &trained); err != nil {
		t.Fatal(err)
	}
	in := steps.BacktestScoreInput{Key: pipeline.BacktestForecastsKey("bt", 1), Series: plan.Series, Fold: f, Weights: trained.Weights,
		Config: trained.Config, Transform: data.Transform, Windows: data.Windows, Horizon: 1, Levels: []float64{0.8, 0.95}, HalfLife: 5}
	var scored steps.BacktestScoreResult
	if err := h.run(h.acts.BacktestScore, in, &scored); err != nil {
		t.Fatal(err)
	}
	fc, err := h.acts.readForecasts(ctx, scored.Forecasts)
	if err != nil {
		t.Fatal(err)
	}
	if fc.Len() != 40 || !fc.Date[0].Equal(bars.Date[f.Test.Start]) || len(fc.Models) != 4 || fc.Models[0] != pipeline.ModelLSTM {
		t.Fatalf("forecasts: %d rows from %v, models %v", fc.Len(), fc.Date[0], fc.Models)
	}
	y, alpha := bars.Open, 1-math.Exp2(-1.0/5)
	for i := range fc.Len() {
		t0 := f.Test.Start + i
		o := t0 - 1
		if fc.Actual[i] != y[t0] || fc.Column("naive")[i] != y[o] || fc.Last[i] != y[o] {
			t.Fatalf("row %d: actual %g, naive %g, last %g; want %g, %g", i, fc.Actual[i], fc.Column("naive")[i], fc.Last[i], y[t0], y[o])
		}
		if drift := y[o] + (y[o]-y[0])/float64(o); math.Abs(fc.Column("drift")[i]-drift) > 1e-9 {
			t.Fatalf("row %d: drift %g, want %g", i, fc.Column("drift")[i], drift)
		}
		var num, den float64
		for j := 1; j <= o; j++ {
			w := math.Pow(1-alpha, float64(o-j))
			num += w * (y[j]/y[j-1] - 1)
			den += w
		}
		if ewma := y[o] * (1 + num/den); math.Abs(fc.Column("ewma")[i]-ewma) > 1e-9 {
			t.Fatalf("row %d: ewma %g, want %g", i, fc.Column("ewma")[i], ewma)
		}
	}
	if len(scored.Intervals) != 4 || len(scored.Intervals[0].Results) != 2 || scored.Intervals[0].Results[1].Level != 0.95 ||
		scored.Intervals[0].Results[1].Width < scored.Intervals[0].Results[0].Width {
		t.Fatalf("intervals %+v", scored.Intervals)
	}
	val, err := h.acts.readWindows(ctx, data.Windows.Val)
	if err != nil {
		t.Fatal(err)
	}
	checkScaledBands(t, scored.Intervals, fc, val)

	fold := pipeline.BacktestFoldResult{Fold: f, Forecasts: scored.Forecasts, Intervals: scored.Intervals, TestFirst: "a", TestLast: "b"}
	var sum steps.BacktestSummarizeResult
	if err := h.run(h.acts.BacktestSummarize, steps.BacktestSummarizeInput{BacktestID: "bt", Folds: []pipeline.BacktestFoldResult{fold}, Horizon: 1}, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Summary) != 4 || sum.Summary[1].Model != "naive" || float64(sum.Summary[1].MASE.Mean) != 1 || len(sum.Intervals) != 8 ||
		float64(sum.Intervals[2].WidthVsNaive) != 1 || sum.Intervals[0].Scale != metrics.ScaleLastOpen {
		t.Fatalf("summary %+v, intervals %+v", sum.Summary, sum.Intervals)
	}
	res := pipeline.BacktestResult{BacktestID: "bt", Ticker: "SPIKE", Folds: []pipeline.BacktestFoldResult{fold}, Summary: sum.Summary,
		Intervals: sum.Intervals, Levels: in.Levels}
	var rep steps.BacktestReportResult
	if err := h.run(h.acts.BacktestReport, steps.BacktestReportInput{Result: res}, &rep); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{pipeline.BacktestReportKey("bt"), pipeline.BacktestDir("bt") + "plots/fold_01.png", pipeline.BacktestSummaryKey("bt")} {
		if b, err := blob.GetBytes(ctx, h.acts.Store, key); err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", key, len(b), err)
		}
	}
}

// checkScaledBands recomputes the fold's bands independently: naive's
// half-width is the ⌈(n+1)·level⌉-th smallest |actual − last| / last on
// the validation windows, and every model's coverage and mean width on
// the test block follow from its half-width × each day's last Open.
func checkScaledBands(t *testing.T, ivs []pipeline.ModelIntervals, fc *frame.Forecasts, val *frame.Windows) {
	t.Helper()
	rel := make([]float64, len(val.Target))
	for i, a := range val.Target {
		rel[i] = math.Abs(a-val.Last[i]) / val.Last[i]
	}
	sort.Float64s(rel)
	for _, iv := range ivs {
		if iv.Scale != metrics.ScaleLastOpen {
			t.Errorf("%s: scale %q, want %q", iv.Model, iv.Scale, metrics.ScaleLastOpen)
		}
		pred := fc.Column(iv.Model)
		for _, r := range iv.Results {
			if iv.Model == "naive" {
				k := int(math.Ceil(float64(len(rel)+1)*r.Level - 1e-9))
				if r.HalfWidth != rel[k-1] || r.N != fc.Len() {
					t.Errorf("naive at %g: half-width %g on %d days, want the %d-th of %d validation |residual|/last = %g on %d",
						r.Level, r.HalfWidth, r.N, k, len(rel), rel[k-1], fc.Len())
				}
			}
			in, width := 0, 0.0
			for d, a := range fc.Actual {
				if math.Abs(a-pred[d]) <= r.HalfWidth*fc.Last[d] {
					in++
				}
				width += 2 * r.HalfWidth * fc.Last[d]
			}
			cov, width := float64(in)/float64(fc.Len()), width/float64(fc.Len())
			if r.Coverage != cov || math.Abs(r.Width-width) > 1e-9*width {
				t.Errorf("%s at %g: coverage %g, width %g; recomputed %g, %g", iv.Model, r.Level, r.Coverage, r.Width, cov, width)
			}
		}
	}
}
