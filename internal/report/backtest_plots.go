package report

import (
	"bytes"
	"fmt"
	"math"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/plots"
)

// Backtest chart file names, under the backtest's plots/ folder.
const (
	BacktestRMSEPlot     = "rmse_by_fold.png"
	BacktestCoveragePlot = "coverage_by_fold.png"
)

// BacktestFoldPlot is fold k's chart of actual vs every model's forecasts.
func BacktestFoldPlot(k int) string { return fmt.Sprintf("fold_%02d.png", k) }

// BacktestCharts draws a backtest's charts: RMSE of every model per fold,
// interval coverage per fold, and each fold's test block (actual, the
// model and the baselines), forecasts[i] being fold i's. It returns the
// PNGs by file name and the plots in the order the report shows them.
func BacktestCharts(r pipeline.BacktestResult, forecasts []*frame.Forecasts) (map[string][]byte, []Plot, error) {
	if len(forecasts) != len(r.Folds) {
		return nil, nil, fmt.Errorf("backtest charts: %d forecast files for %d folds", len(forecasts), len(r.Folds))
	}
	out := map[string][]byte{}
	var shown []Plot
	draw := func(name, title string, fn func(*bytes.Buffer) error) error {
		var buf bytes.Buffer
		if err := fn(&buf); err != nil {
			return fmt.Errorf("backtest chart %s: %w", name, err)
		}
		out[name] = buf.Bytes()
		shown = append(shown, Plot{Title: title, URL: "plots/" + name})
		return nil
	}
	xs := make([]float64, len(r.Folds))
	for i, f := range r.Folds {
		xs[i] = float64(f.Fold.Index)
	}
	if err := draw(BacktestRMSEPlot, "RMSE per fold, every model (price units)", func(b *bytes.Buffer) error {
		return plots.Curve(b, "RMSE per fold", "fold", xs, backtestRMSELines(r))
	}); err != nil {
		return nil, nil, err
	}
	if err := draw(BacktestCoveragePlot, "Interval coverage per fold (should sit near its level)", func(b *bytes.Buffer) error {
		return plots.Curve(b, "Conformal interval coverage per fold", "fold", xs, backtestCoverageLines(r))
	}); err != nil {
		return nil, nil, err
	}
	for i, f := range r.Folds {
		fc := forecasts[i]
		lines := []plots.Line{{Name: "actual", Values: fc.Actual}}
		for j, m := range fc.Models {
			lines = append(lines, plots.Line{Name: m, Values: fc.Pred[j]})
		}
		title := fmt.Sprintf("Fold %d: test %s … %s, actual vs forecasts", f.Fold.Index, f.TestFirst, f.TestLast)
		if err := draw(BacktestFoldPlot(f.Fold.Index), title, func(b *bytes.Buffer) error {
			return plots.Series(b, fmt.Sprintf("Fold %d test block", f.Fold.Index), fc.Date, lines, nil)
		}); err != nil {
			return nil, nil, err
		}
	}
	return out, shown, nil
}

// backtestRMSELines is one line per model of its RMSE in each fold (NaN where a
// model has no score for a fold).
func backtestRMSELines(r pipeline.BacktestResult) []plots.Line {
	var lines []plots.Line
	for _, s := range r.Summary {
		vs := backtestNaNs(len(r.Folds))
		for _, pf := range s.PerFold {
			if i := backtestFoldAt(r, pf.Fold); i >= 0 {
				vs[i] = pf.Model.RMSE
			}
		}
		lines = append(lines, plots.Line{Name: s.Model, Values: vs})
	}
	return lines
}

// backtestCoverageLines is, for the trained model and naive (the other baselines'
// bands are in the tables), a line per level of each fold's coverage.
func backtestCoverageLines(r pipeline.BacktestResult) []plots.Line {
	var lines []plots.Line
	for _, model := range []string{pipeline.ModelLSTM, "naive"} {
		for li, level := range r.Levels {
			vs := backtestNaNs(len(r.Folds))
			for i, f := range r.Folds {
				for _, iv := range f.Intervals {
					if iv.Model == model && li < len(iv.Results) {
						vs[i] = iv.Results[li].Coverage
					}
				}
			}
			lines = append(lines, plots.Line{Name: fmt.Sprintf("%s %s", model, backtestLevel(level)), Values: vs})
		}
	}
	return lines
}

func backtestFoldAt(r pipeline.BacktestResult, k int) int {
	for i, f := range r.Folds {
		if f.Fold.Index == k {
			return i
		}
	}
	return -1
}

func backtestNaNs(n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = math.NaN()
	}
	return vs
}
