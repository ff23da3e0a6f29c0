package activities

import (
	"context"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/steps"
)

// dateLayout is how fold boundaries are written for people.
const dateLayout = "2006-01-02"

// BacktestPlan joins the cleaned training, validation and test splits back
// into the one series they were cut from and plans the folds over its
// rows. The splits only exist because validation and cleaning compare
// them; a backtest draws its own boundaries, fold by fold.
func (a *Activities) BacktestPlan(ctx context.Context, in steps.BacktestPlanInput) (steps.BacktestPlanResult, error) {
	if err := in.Spec.Validate(); err != nil {
		return steps.BacktestPlanResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	var series *frame.Bars
	for _, ref := range in.Cleaned.Parts() {
		part, err := a.readBars(ctx, *ref)
		if err != nil {
			return steps.BacktestPlanResult{}, err
		}
		series = appendBars(series, part)
	}
	folds, err := in.Spec.Plan(series.Len())
	if err != nil {
		return steps.BacktestPlanResult{}, invalid(steps.ErrInvalidParams, err, "%s: %v", series.Ticker, err)
	}
	series.Lineage = lineageJSON("backtest-series", nil, in.Cleaned.Train, in.Cleaned.Val, in.Cleaned.Test)
	ref, err := a.writeBars(ctx, "backtest-series", in.Cleaned, series)
	if err != nil {
		return steps.BacktestPlanResult{}, err
	}
	return steps.BacktestPlanResult{Series: ref, Folds: folds,
		FirstDate: series.Date[0].Format(dateLayout), LastDate: series.Date[series.Len()-1].Format(dateLayout)}, nil
}

// appendBars appends part to series (nil: a copy of part), keeping the
// rows a cleaning step dropped marked as breaks.
func appendBars(series, part *frame.Bars) *frame.Bars {
	if series == nil {
		return part.Slice(0, part.Len())
	}
	off := series.Len()
	for _, r := range part.Breaks {
		series.Breaks = append(series.Breaks, off+r)
	}
	for r := range part.Len() {
		series.AppendRow(part, r)
	}
	return series
}
