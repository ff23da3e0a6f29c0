package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// BacktestFoldData prepares one fold: the scaler is fitted on the fold's
// training rows only, then training windows are cut from those rows,
// validation windows from ValidationInput and test windows from TestInput
// (the block plus the lookback before it), so every target of the block
// has its window and no scaler or training window reads a row at or after
// the test block.
func (a *Activities) BacktestFoldData(ctx context.Context, in steps.BacktestFoldDataInput) (steps.BacktestFoldDataResult, error) {
	if err := in.Spec.Validate(); err != nil {
		return steps.BacktestFoldDataResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	series, err := a.readBars(ctx, in.Series)
	if err != nil {
		return steps.BacktestFoldDataResult{}, err
	}
	f := in.Fold
	if err := checkFoldRanges(f, series.Len()); err != nil {
		return steps.BacktestFoldDataResult{}, invalid(steps.ErrInvalidParams, err, "fold %d: %v", f.Index, err)
	}
	train := series.Slice(f.Train.Start, f.Train.End)
	t, err := prep.FitTransform(in.Spec, train, max(in.Horizon, 1))
	if err != nil {
		return steps.BacktestFoldDataResult{}, invalid(steps.ErrInvalidData, err, "fold %d: %v", f.Index, err)
	}
	raw, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return steps.BacktestFoldDataResult{}, fmt.Errorf("encode fold %d transform: %w", f.Index, err)
	}
	key, err := derivedKey("scale", "json", in)
	if err != nil {
		return steps.BacktestFoldDataResult{}, err
	}
	out := steps.BacktestFoldDataResult{TrainMax: maxFinite(train.Open),
		TrainFirst: series.Date[f.Train.Start].Format(dateLayout), TrainLast: series.Date[f.Train.End-1].Format(dateLayout),
		TestFirst: series.Date[f.Test.Start].Format(dateLayout), TestLast: series.Date[f.Test.End-1].Format(dateLayout)}
	if out.Transform, err = a.putImmutable(ctx, key, raw, 0); err != nil {
		return steps.BacktestFoldDataResult{}, err
	}
	parts := [3]backtest.Range{f.Train, f.ValidationInput, f.TestInput}
	for i, r := range parts {
		w, err := prep.MakeWindows(series.Slice(r.Start, r.End), t, in.Lookback)
		if err != nil {
			return steps.BacktestFoldDataResult{}, invalid(steps.ErrInvalidData, err, "fold %d, %s rows %d..%d: %v", f.Index, splitNames[i], r.Start, r.End, err)
		}
		if *out.Windows.Parts()[i], err = a.writeWindows(ctx, partKey{Inputs: in, Part: i}, w); err != nil {
			return steps.BacktestFoldDataResult{}, err
		}
	}
	return out, nil
}

// checkFoldRanges refuses a fold that does not fit the series or whose
// parts are not in time order: a fold from another plan must not be cut
// from this series silently.
func checkFoldRanges(f backtest.Fold, rows int) error {
	switch {
	case f.Train.Start < 0 || f.Train.Len() < 1 || f.Validation.Len() < 1 || f.Test.Len() < 1:
		return fmt.Errorf("empty or negative ranges %+v", f)
	case f.Train.End > f.Validation.Start || f.Validation.End > f.Test.Start:
		return fmt.Errorf("training %+v, validation %+v and test %+v are not in time order", f.Train, f.Validation, f.Test)
	case f.ValidationInput.Start < 0 || f.TestInput.Start < 0 || f.Test.End > rows:
		return fmt.Errorf("ranges reach outside the series' %d rows", rows)
	}
	return nil
}

// maxFinite is the largest finite value of vs, 0 when none (a payload
// cannot carry NaN).
func maxFinite(vs []float64) float64 {
	m, found := 0.0, false
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && (!found || v > m) {
			m, found = v, true
		}
	}
	return m
}

// seriesRows maps each date of the series to its row, so a window's
// target date names the row the baselines forecast.
func seriesRows(b *frame.Bars) map[int64]int {
	rows := make(map[int64]int, b.Len())
	for i, d := range b.Date {
		rows[d.Unix()] = i
	}
	return rows
}
