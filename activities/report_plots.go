package activities

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/plots"
	"github.com/finsight/finsight/internal/report"
	"github.com/finsight/finsight/internal/runs"
)

// reportChart is one of the report's charts: its file name under plots/
// and how to draw it.
type reportChart struct {
	name string
	draw func(*bytes.Buffer) error
}

// Each forecaster keeps its colour across the charts, the one Series
// gives it in the predictions chart.
func actualLook() plots.Look { return plots.Look{Color: plots.PaletteColor(0)} }
func modelLook() plots.Look  { return plots.Look{Color: plots.PaletteColor(1)} }
func naiveLook() plots.Look  { return plots.Look{Color: plots.PaletteColor(2)} }

// writeReportPlots renders the report's charts from the test predictions
// into runs/<id>/plots/ (report.PlotsFor orders and titles them).
func (a *Activities) writeReportPlots(ctx context.Context, rec runs.Record, p *frame.Predictions, artifacts map[string]string) error {
	for _, c := range reportCharts(rec, p) {
		var buf bytes.Buffer
		if err := c.draw(&buf); err != nil {
			return fmt.Errorf("plot %s: %w", c.name, err)
		}
		if err := a.putRunFile(ctx, rec.ID, "plots/"+c.name, buf.Bytes(), artifacts); err != nil {
			return err
		}
	}
	return nil
}

// reportPlots lists the run's plots (the report's charts and the Plot
// step's data plots), ordered and titled for the page.
func (a *Activities) reportPlots(ctx context.Context, runID string) ([]report.Plot, error) {
	dir := runs.PlotsDir(runID)
	keys, err := a.Store.List(ctx, dir)
	if err != nil {
		return nil, storeErr(err, "list the plots of run %s", runID)
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		names = append(names, strings.TrimPrefix(k, dir))
	}
	return report.PlotsFor(names), nil
}

// reportCharts are the charts of the test predictions: the whole period,
// its last report.ZoomDays days, the cumulative squared-error difference,
// residuals over time and their histogram, and the learning curve.
func reportCharts(rec runs.Record, p *frame.Predictions) []reportChart {
	charts := []reportChart{
		{report.PredictionsPlot, func(b *bytes.Buffer) error {
			return plots.Series(b, rec.Ticker+": actual vs predicted next Open (test)", p.Date, []plots.Line{
				{Name: "actual", Values: p.Actual}, {Name: "model", Values: p.Predicted}, {Name: "naive", Values: p.Naive}}, nil)
		}},
		{report.ZoomPlot, func(b *bytes.Buffer) error { return zoomChart(b, rec.Ticker, p) }},
		{report.CumulativePlot, func(b *bytes.Buffer) error { return cumulativeChart(b, p) }},
		{report.ResidualsTimePlot, func(b *bytes.Buffer) error { return residualsTimeChart(b, p) }},
		{report.ResidualsPlot, func(b *bytes.Buffer) error {
			return plots.Histogram(b, "model residuals (predicted − actual)", residuals(p.Predicted, p.Actual), 40)
		}},
	}
	if rec.Result != nil && len(rec.Result.Curve) > 0 {
		charts = append(charts, reportChart{report.LossPlot, func(b *bytes.Buffer) error {
			var xs, tr, va []float64
			for _, e := range rec.Result.Curve {
				xs, tr, va = append(xs, float64(e.Epoch)), append(tr, e.TrainLoss), append(va, e.ValLoss)
			}
			return plots.Curve(b, "training and validation loss (scaled units)", "epoch", xs, []plots.Line{{Name: "train", Values: tr}, {Name: "validation", Values: va}})
		}})
	}
	return charts
}

// zoomChart draws actual, model and naive over the last report.ZoomDays
// test days, with a glyph at every day and naive dashed, so the small
// differences a 1000-day chart hides show.
func zoomChart(b *bytes.Buffer, ticker string, p *frame.Predictions) error {
	from := max(0, p.Len()-report.ZoomDays)
	look := func(l plots.Look, dashed bool) plots.Look {
		l.Points, l.Dashed = true, dashed
		return l
	}
	title := fmt.Sprintf("%s: actual, model and naive next Open, last %d test days", ticker, p.Len()-from)
	return plots.SeriesStyled(b, title, p.Date[from:], []plots.StyledLine{
		{Line: plots.Line{Name: "actual", Values: p.Actual[from:]}, Look: look(actualLook(), false)},
		{Line: plots.Line{Name: "model", Values: p.Predicted[from:]}, Look: look(modelLook(), false)},
		{Line: plots.Line{Name: "naive", Values: p.Naive[from:]}, Look: look(naiveLook(), true)},
	}, plots.SeriesOptions{YLabel: "price"})
}

// cumulativeChart draws the running sum of naive² − model² squared errors:
// it rises where the model beats naive.
func cumulativeChart(b *bytes.Buffer, p *frame.Predictions) error {
	diff, err := metrics.CumulativeSquaredErrorDiff(p.Actual, p.Predicted, p.Naive)
	if err != nil {
		return err
	}
	return plots.SeriesStyled(b, "cumulative naive² − model² squared error: rises where the model beats naive", p.Date,
		[]plots.StyledLine{{Line: plots.Line{Name: "Σ (naive error² − model error²)", Values: diff}, Look: modelLook()}},
		plots.SeriesOptions{YLabel: "↑ model better, ↓ naive better (price²)", ZeroLine: true})
}

// residualsTimeChart draws naive's residuals first and faint, the model's
// on top, around a zero line, so the model's stay visible.
func residualsTimeChart(b *bytes.Buffer, p *frame.Predictions) error {
	faint := naiveLook()
	faint.Faint = true
	return plots.SeriesStyled(b, "residuals over the test period (predicted − actual; naive faint, model on top)", p.Date, []plots.StyledLine{
		{Line: plots.Line{Name: "naive", Values: residuals(p.Naive, p.Actual)}, Look: faint},
		{Line: plots.Line{Name: "model", Values: residuals(p.Predicted, p.Actual)}, Look: modelLook()},
	}, plots.SeriesOptions{YLabel: "price", ZeroLine: true})
}

// residuals are pred − actual, day by day.
func residuals(pred, actual []float64) []float64 {
	out := make([]float64, len(actual))
	for i := range actual {
		out[i] = pred[i] - actual[i]
	}
	return out
}

func (a *Activities) putRunFile(ctx context.Context, runID, rel string, b []byte, artifacts map[string]string) error {
	key := runs.Key(runID, rel)
	if err := a.Store.Put(ctx, key, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	if artifacts != nil {
		artifacts[rel] = a.Store.URI(key)
	}
	return nil
}

// reportNav links the run's workflow in the Temporal Web UI when the
// worker knows where it is (WorkflowURL).
func (a *Activities) reportNav(runID string) report.Nav {
	if a.WorkflowURL == nil {
		return report.Nav{}
	}
	return report.Nav{WebUI: a.WorkflowURL(runID)}
}
