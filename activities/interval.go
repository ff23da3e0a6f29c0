package activities

import (
	"context"
	"fmt"

	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/model"
)

// intervals calibrates split-conformal prediction intervals for the model
// and for the naive forecast on their validation residuals (the same
// horizon) and measures them on the test split (test and its model
// forecasts pred). The validation split is the calibration set because
// neither the weights nor the scaler were fitted on it; training residuals
// would be too small and give intervals that cover too little.
//
// Residuals are divided by the window's last Open (metrics.ScaleLastOpen):
// prices drift over the years (NFLX's test split trades at about twice
// its validation prices), and errors in price units grow with them. Plain
// price-unit bands are calibrated too and measured beside them
// (AbsoluteTest). No validation windows (in.Val zero, a caller from before
// intervals) gives nil.
func (a *Activities) intervals(ctx context.Context, in steps.EvaluateInput, m *model.LSTM, t prep.Transform,
	test *frame.Windows, pred []float64) (*metrics.Intervals, error) {
	if in.Val.Key == "" {
		return nil, nil
	}
	val, err := a.readWindows(ctx, in.Val)
	if err != nil {
		return nil, err
	}
	levels := in.Levels
	if len(levels) == 0 {
		levels = conformal.DefaultLevels()
	}
	out := &metrics.Intervals{Scale: metrics.ScaleLastOpen}
	if len(val.Target) == 0 {
		out.Notes = append(out.Notes, "no validation windows to calibrate intervals on")
		return out, nil
	}
	valPred, err := forecastPrices(m, t, val)
	if err != nil {
		return nil, fmt.Errorf("predict validation: %w", err)
	}
	var absModel, absNaive []conformal.Band
	for _, level := range levels {
		bands, err := calibrateLevel(val, valPred, level)
		if err != nil { // too few residuals for this level: leave it out, say so
			out.Notes = append(out.Notes, fmt.Sprintf("level %g left out: %v", level, err))
			continue
		}
		out.Model, out.Naive = append(out.Model, bands[0]), append(out.Naive, bands[1])
		absModel, absNaive = append(absModel, bands[2]), append(absNaive, bands[3])
	}
	if out.Test, err = testIntervals(test, pred, test.Last, out.Model, out.Naive); err != nil {
		return nil, err
	}
	if out.AbsoluteTest, err = testIntervals(test, pred, nil, absModel, absNaive); err != nil {
		return nil, err
	}
	return out, nil
}

// calibrateLevel is one level's bands: the model's and naive's scaled by
// the last Open, then both in price units.
func calibrateLevel(val *frame.Windows, valPred []float64, level float64) ([4]conformal.Band, error) {
	var bands [4]conformal.Band
	for i, c := range []struct {
		point, scale []float64
	}{{valPred, val.Last}, {val.Last, val.Last}, {valPred, nil}, {val.Last, nil}} {
		b, err := conformal.CalibrateScaled(val.Target, c.point, c.scale, []float64{level})
		if err != nil {
			return bands, err
		}
		bands[i] = b[0]
	}
	return bands, nil
}

// testIntervals measures model and naive bands, level by level, on the
// test windows: the share of days inside and the mean width in price
// units (the half-widths are multiplied by scale; nil: price units).
func testIntervals(test *frame.Windows, pred, scale []float64, model, naive []conformal.Band) ([]metrics.IntervalTest, error) {
	m, err := conformal.EvaluateScaled(test.Target, pred, scale, model)
	if err != nil {
		return nil, fmt.Errorf("model intervals on test: %w", err)
	}
	n, err := conformal.EvaluateScaled(test.Target, test.Last, scale, naive)
	if err != nil {
		return nil, fmt.Errorf("naive intervals on test: %w", err)
	}
	out := make([]metrics.IntervalTest, len(m))
	for i := range m {
		out[i] = metrics.IntervalTest{Level: m[i].Level, ModelCoverage: m[i].Coverage, NaiveCoverage: n[i].Coverage,
			ModelWidth: m[i].Width, NaiveWidth: n[i].Width, N: m[i].N}
	}
	return out, nil
}

// forecastPrices runs every window through the model and turns its outputs
// into prices.
func forecastPrices(m *model.LSTM, t prep.Transform, w *frame.Windows) ([]float64, error) {
	scaled, err := m.Predict(w.X)
	if err != nil {
		return nil, err
	}
	pred := make([]float64, len(scaled))
	for i, v := range scaled {
		pred[i] = t.Price(w.Last[i], float64(v))
	}
	return pred, nil
}
