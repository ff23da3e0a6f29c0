package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
)

// BacktestTable prints a backtest's summary: one row per model (the
// trained model, then each baseline by name) with its errors across folds
// (mean ± sample std), the folds it beat naive in, the pooled
// Diebold–Mariano test against naive, and its interval coverage and mean
// width at each level.
func BacktestTable(w io.Writer, r pipeline.BacktestResult) error {
	fmt.Fprintf(w, "backtest %s: %s, %d folds (%s)\n", r.BacktestID, r.Ticker, len(r.Folds), backtestSpan(r))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "model\tRMSE\tMAE\tMASE\tdirection\tbeat naive\tDM stat\tDM p"
	for _, l := range r.Levels {
		head += fmt.Sprintf("\tcover %s\twidth %s", backtestLevel(l), backtestLevel(l))
	}
	fmt.Fprintln(tw, head+"\t")
	for _, s := range r.Summary {
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s", s.Model, spreadText(s.RMSE, 3), spreadText(s.MAE, 3), spreadText(s.MASE, 3),
			pct(s.DirectionalAccuracy.Mean), s.BeatNaive, s.Folds, num(s.PooledDMStat, 2), num(s.PooledDMPValue, 3))
		for _, l := range r.Levels {
			iv, ok := backtestInterval(r.Intervals, s.Model, l)
			if !ok {
				row += "\t-\t-"
				continue
			}
			row += fmt.Sprintf("\t%.1f%%\t%.2f", 100*iv.MeanCoverage, iv.MeanWidth)
		}
		fmt.Fprintln(tw, row+"\t")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print backtest table: %w", err)
	}
	if _, err := fmt.Fprintf(w, "RMSE, MAE and width in price units, mean ± std across folds; MASE < 1 and DM stat < 0 mean better than naive.\n"); err != nil {
		return err
	}
	if note := backtestScaleNote(r); note != "" {
		if _, err := fmt.Fprintln(w, note); err != nil {
			return err
		}
	}
	return nil
}

// backtestScaleNote says how the bands were scaled, from the interval
// summaries' Scale (every model's is the same), or nothing when they are
// in price units (a backtest from before scaled bands).
func backtestScaleNote(r pipeline.BacktestResult) string {
	for _, iv := range r.Intervals {
		if iv.Scale == metrics.ScaleLastOpen {
			return "Intervals: bands scale with the last Open (validation residuals ÷ last Open, as /predict serves them)."
		}
	}
	return ""
}

// backtestSpan is the days the test blocks cover.
func backtestSpan(r pipeline.BacktestResult) string {
	if len(r.Folds) == 0 {
		return "no folds"
	}
	return fmt.Sprintf("test %s … %s", r.Folds[0].TestFirst, r.Folds[len(r.Folds)-1].TestLast)
}

func spreadText(s backtest.Spread, digits int) string {
	if s.N > 1 {
		return num(s.Mean, digits) + " ± " + num(s.Std, digits)
	}
	return num(s.Mean, digits)
}

func backtestLevel(l float64) string { return fmt.Sprintf("%g%%", 100*l) }

// backtestInterval finds a model's band summary at a level.
func backtestInterval(all []pipeline.IntervalSummary, model string, level float64) (pipeline.IntervalSummary, bool) {
	for _, iv := range all {
		if iv.Model == model && iv.Level == level {
			return iv, true
		}
	}
	return pipeline.IntervalSummary{}, false
}
