package activities

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/finsight/finsight/internal/baseline"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/model"
)

// BacktestScore forecasts one fold's validation and test targets with the
// fold's model and with each baseline, calibrates every model's conformal
// bands on its own validation residuals and measures them on the test
// block, and writes the test forecasts (Arrow) under in.Key. The bands
// are the kind /predict serves (activities/interval.go): residuals divided
// by the window's last Open, so a price that climbs between validation and
// test widens the bands with it instead of outgrowing them. The
// baselines forecast exactly the targets the model's windows have, from
// the same series, so every model is scored on the same days.
func (a *Activities) BacktestScore(ctx context.Context, in steps.BacktestScoreInput) (steps.BacktestScoreResult, error) {
	k := in.Fold.Index
	val, test, err := a.foldModelForecasts(ctx, in)
	if err != nil {
		return steps.BacktestScoreResult{}, err
	}
	series, err := a.readBars(ctx, in.Series)
	if err != nil {
		return steps.BacktestScoreResult{}, err
	}
	rows := seriesRows(series)
	opts := baseline.Options{Horizon: in.Horizon, HalfLife: in.HalfLife}
	for _, kind := range baseline.Kinds() {
		for _, block := range []*blockForecasts{val, test} {
			targets, err := targetRows(rows, block.dates)
			if err != nil {
				return steps.BacktestScoreResult{}, invalid(steps.ErrInvalidData, err, "fold %d: %v", k, err)
			}
			p, err := baseline.Forecast(kind, series.Open, targets, opts)
			if err != nil {
				return steps.BacktestScoreResult{}, invalid(steps.ErrInvalidData, err, "fold %d: %v", k, err)
			}
			block.add(kind, p)
		}
	}
	out := steps.BacktestScoreResult{}
	for i, name := range test.models {
		bands, err := conformal.CalibrateScaled(val.actual, val.pred[i], val.last, in.Levels)
		if err != nil {
			return steps.BacktestScoreResult{}, invalid(steps.ErrInvalidParams, err, "fold %d, %s intervals: %v", k, name, err)
		}
		res, err := conformal.EvaluateScaled(test.actual, test.pred[i], test.last, bands)
		if err != nil {
			return steps.BacktestScoreResult{}, fmt.Errorf("fold %d, %s coverage: %w", k, name, err)
		}
		out.Intervals = append(out.Intervals, pipeline.ModelIntervals{Model: name, Scale: metrics.ScaleLastOpen, Results: res})
	}
	f := &frame.Forecasts{Date: test.dates, Actual: test.actual, Last: test.last, Models: test.models, Pred: test.pred}
	var buf bytes.Buffer
	if err := frame.WriteForecasts(&buf, f, a.Mem); err != nil {
		return steps.BacktestScoreResult{}, fmt.Errorf("fold %d: %w", k, err)
	}
	out.Forecasts = blob.Ref{Key: in.Key, SHA256: blob.ContentHash(buf.Bytes()), Rows: f.Len()}
	if err := a.Store.Put(ctx, in.Key, &buf); err != nil {
		return steps.BacktestScoreResult{}, a.writeErr(in.Key, err)
	}
	return out, nil
}

// blockForecasts are every model's forecasts of one block's targets.
type blockForecasts struct {
	dates        []time.Time
	actual, last []float64
	models       []string
	pred         [][]float64
}

func (b *blockForecasts) add(name string, p []float64) {
	b.models = append(b.models, name)
	b.pred = append(b.pred, p)
}

// foldModelForecasts loads the fold's model and forecasts its validation
// and test windows in price units.
func (a *Activities) foldModelForecasts(ctx context.Context, in steps.BacktestScoreInput) (val, test *blockForecasts, err error) {
	raw, err := a.readVerified(ctx, in.Weights)
	if err != nil {
		return nil, nil, err
	}
	m, err := model.Load(raw, in.Config, a.Device)
	if err != nil {
		return nil, nil, invalid(steps.ErrInvalidData, err, "load %s: %v", in.Weights.Key, err)
	}
	defer m.Close()
	var t prep.Transform
	if err := a.readJSON(ctx, in.Transform, &t); err != nil {
		return nil, nil, err
	}
	blocks := [2]*blockForecasts{}
	for i, ref := range []blob.Ref{in.Windows.Val, in.Windows.Test} {
		w, err := a.readWindows(ctx, ref)
		if err != nil {
			return nil, nil, err
		}
		scaled, err := m.Predict(w.X)
		if err != nil {
			return nil, nil, fmt.Errorf("fold %d: predict %s: %w", in.Fold.Index, splitNames[i+1], err)
		}
		pred := make([]float64, len(scaled))
		for j, v := range scaled {
			pred[j] = t.Price(w.Last[j], float64(v))
		}
		blocks[i] = &blockForecasts{dates: w.TargetDate, actual: w.Target, last: w.Last}
		blocks[i].add(pipeline.ModelLSTM, pred)
	}
	return blocks[0], blocks[1], nil
}

// targetRows finds each target date's row in the series.
func targetRows(rows map[int64]int, dates []time.Time) ([]int, error) {
	out := make([]int, len(dates))
	for i, d := range dates {
		r, ok := rows[d.Unix()]
		if !ok {
			return nil, fmt.Errorf("target date %s is not in the series", d.Format(dateLayout))
		}
		out[i] = r
	}
	return out, nil
}
