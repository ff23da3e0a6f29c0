package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/report"
)

// twoFolds is a backtest of two folds of two days each, the model and
// naive, with 80% bands.
func twoFolds(t *testing.T) (pipeline.BacktestResult, []*frame.Forecasts) {
	t.Helper()
	ff := []backtest.FoldForecasts{
		{Fold: 0, Actual: []float64{11, 9}, Last: []float64{10, 10}, Models: []backtest.ModelForecast{
			{Model: "lstm", Pred: []float64{10.5, 9.5}}, {Model: "naive", Pred: []float64{10, 10}}}},
		{Fold: 1, Actual: []float64{10, 12}, Last: []float64{9, 10}, Models: []backtest.ModelForecast{
			{Model: "lstm", Pred: []float64{10, 13}}, {Model: "naive", Pred: []float64{9, 10}}}},
	}
	sum, err := backtest.Summarize(ff, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := pipeline.BacktestResult{BacktestID: "bt-<x>", Ticker: "NFLX", Summary: sum, Levels: []float64{0.8},
		Intervals: []pipeline.IntervalSummary{
			{Model: "lstm", Level: 0.8, Scale: metrics.ScaleLastOpen, MeanCoverage: 0.75, MinCoverage: 0.5, MeanWidth: 2.5, WidthVsNaive: metrics.Maybe(0.5), Folds: 2},
			{Model: "naive", Level: 0.8, Scale: metrics.ScaleLastOpen, MeanCoverage: 1, MinCoverage: 1, MeanWidth: 5, WidthVsNaive: 1, Folds: 2},
		}}
	var fcs []*frame.Forecasts
	for _, f := range ff {
		r.Folds = append(r.Folds, pipeline.BacktestFoldResult{Fold: backtest.Fold{Index: f.Fold}, TestFirst: "2020-01-01", TestLast: "2020-01-02",
			Intervals: []pipeline.ModelIntervals{{Model: "lstm", Scale: metrics.ScaleLastOpen,
				Results: []conformal.Result{{Level: 0.8, HalfWidth: 0.1, Width: 2.25 + float64(f.Fold), Coverage: 0.5 + 0.5*float64(f.Fold), N: 2}}}}})
		fc := &frame.Forecasts{Date: dates(2), Actual: f.Actual, Last: f.Last}
		for _, m := range f.Models {
			fc.Models, fc.Pred = append(fc.Models, m.Model), append(fc.Pred, m.Pred)
		}
		fcs = append(fcs, fc)
	}
	return r, fcs
}

// The table has a row per model, in the summary's order, with its errors
// across folds, its wins over naive and its coverage and width per level.
func TestBacktestTableRowPerModel(t *testing.T) {
	r, _ := twoFolds(t)
	var b bytes.Buffer
	if err := report.BacktestTable(&b, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if len(lines) < 4 || !strings.Contains(lines[1], "cover 80%") || !strings.Contains(lines[1], "width 80%") {
		t.Fatalf("table:\n%s", b.String())
	}
	// lstm: MAE 0.5 in both folds (mean 0.5, std 0); naive's MAE 1 and
	// 1.5, so MASE 0.5 and 0.333: it beats naive in both folds.
	lstm, naive := strings.Fields(lines[2]), strings.Fields(lines[3])
	if lstm[0] != "lstm" || !strings.Contains(lines[2], "0.500 ± 0.000") || !strings.Contains(lines[2], "2/2") ||
		!strings.Contains(lines[2], "75.0%") || !strings.Contains(lines[2], "2.50") {
		t.Errorf("lstm row %q", lines[2])
	}
	if naive[0] != "naive" || !strings.Contains(lines[3], "0/2") || !strings.Contains(lines[3], "100.0%") || !strings.Contains(lines[3], "n/a") {
		t.Errorf("naive row %q: naive never beats itself and has no DM test against itself", lines[3])
	}
	if !strings.Contains(b.String(), "bands scale with the last Open") {
		t.Errorf("table does not say the bands scale with the last Open:\n%s", b.String())
	}
	// Bands from before scaling (no Scale) get no such line.
	for i := range r.Intervals {
		r.Intervals[i].Scale = ""
	}
	b.Reset()
	if err := report.BacktestTable(&b, r); err != nil || strings.Contains(b.String(), "last Open") {
		t.Errorf("price-unit bands described as scaled (%v):\n%s", err, b.String())
	}
}

// The page shows every model and links a chart per fold; the id is escaped.
func TestBacktestHTMLAndCharts(t *testing.T) {
	r, fcs := twoFolds(t)
	pngs, plots, err := report.BacktestCharts(r, fcs)
	if err != nil {
		t.Fatal(err)
	}
	if len(pngs) != 4 || len(plots) != 4 || plots[2].URL != "plots/"+report.BacktestFoldPlot(0) {
		t.Fatalf("%d charts, plots %+v", len(pngs), plots)
	}
	var b bytes.Buffer
	if err := report.BacktestHTML(&b, r, plots); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// The per-fold interval rows: fold 1's lstm band covered 100% at a
	// mean width of 3.25.
	for _, want := range []string{"<td>lstm</td>", "<td>naive</td>", "plots/fold_01.png", "bt-&lt;x&gt;", "bands scale with the last Open",
		"<tr><td>1</td><td>lstm</td><td>80%</td><td>100.0%</td><td>3.250</td><td>2</td></tr>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if _, _, err := report.BacktestCharts(r, fcs[:1]); err == nil {
		t.Error("charts of 2 folds from 1 forecast file: no error")
	}
}

func dates(n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC)
	}
	return out
}
