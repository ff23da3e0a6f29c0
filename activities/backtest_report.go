package activities

import (
	"bytes"
	"context"
	"path"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/report"
	"github.com/finsight/finsight/internal/steps"
)

// BacktestReport draws a finished backtest's charts (RMSE and coverage per
// fold, each fold's test block with every model's forecasts) into
// backtests/<id>/plots/ and writes backtests/<id>/report.html, which links
// them by relative URL. The page is written last, so a report that exists
// has its charts.
func (a *Activities) BacktestReport(ctx context.Context, in steps.BacktestReportInput) (steps.BacktestReportResult, error) {
	r := in.Result
	if len(r.Folds) == 0 {
		return steps.BacktestReportResult{}, invalid(steps.ErrInvalidParams, nil, "backtest %s has no folds to report", r.BacktestID)
	}
	forecasts := make([]*frame.Forecasts, len(r.Folds))
	for i, f := range r.Folds {
		fc, err := a.readForecasts(ctx, f.Forecasts)
		if err != nil {
			return steps.BacktestReportResult{}, err
		}
		forecasts[i] = fc
	}
	pngs, plots, err := report.BacktestCharts(r, forecasts)
	if err != nil {
		return steps.BacktestReportResult{}, invalid(steps.ErrInvalidData, err, "%v", err)
	}
	dir := pipeline.BacktestDir(r.BacktestID)
	for name, png := range pngs {
		key := path.Join(dir, "plots", name)
		if err := a.Store.Put(ctx, key, bytes.NewReader(png)); err != nil {
			return steps.BacktestReportResult{}, a.writeErr(key, err)
		}
	}
	var page bytes.Buffer
	if err := report.BacktestHTML(&page, r, plots); err != nil {
		return steps.BacktestReportResult{}, err
	}
	key := pipeline.BacktestReportKey(r.BacktestID)
	if err := a.Store.Put(ctx, key, &page); err != nil {
		return steps.BacktestReportResult{}, a.writeErr(key, err)
	}
	return steps.BacktestReportResult{ReportURI: a.Store.URI(key)}, nil
}
