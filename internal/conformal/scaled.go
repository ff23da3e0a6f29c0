package conformal

import (
	"fmt"
	"math"
)

// Normalised (scaled) split conformal: each residual is divided by a
// positive scale known at forecast time (e.g. the window's last price)
// before calibrating, and a band's half-width is then a share of that
// scale: the interval is point ± HalfWidth × scale. Errors that grow with
// the price level (a stock that doubles) stay exchangeable after scaling
// when they are not in price units.

// ScaledResiduals are (actual − point) / scale, the input Calibrate
// expects for scaled bands; a nil scale is 1 everywhere (plain residuals).
func ScaledResiduals(actual, point, scale []float64) ([]float64, error) {
	if err := checkScaled(actual, point, scale); err != nil {
		return nil, fmt.Errorf("conformal residuals: %w", err)
	}
	out := make([]float64, len(actual))
	for i, a := range actual {
		out[i] = (a - point[i]) / scaleAt(scale, i)
	}
	return out, nil
}

// CalibrateScaled makes one scaled band per level from calibration
// forecasts (ScaledResiduals, then Calibrate).
func CalibrateScaled(actual, point, scale, levels []float64) ([]Band, error) {
	res, err := ScaledResiduals(actual, point, scale)
	if err != nil {
		return nil, err
	}
	return Calibrate(res, levels)
}

// EvaluateScaled measures scaled bands on held-out values: a value is
// covered when |actual − point| ≤ HalfWidth × scale (bounds included).
// HalfWidth stays a share of the scale; Width is the mean interval width
// over the values, in the units of actual (nil scale: Evaluate's).
func EvaluateScaled(actual, point, scale []float64, bands []Band) ([]Result, error) {
	if err := checkScaled(actual, point, scale); err != nil {
		return nil, fmt.Errorf("conformal coverage: %w", err)
	}
	n := len(actual)
	if n == 0 {
		return nil, fmt.Errorf("conformal coverage: no values")
	}
	var twice float64 // Σ 2·scale: the mean width is HalfWidth × twice / n
	for i := range actual {
		twice += 2 * scaleAt(scale, i)
	}
	out := make([]Result, len(bands))
	for j, b := range bands {
		in := 0
		for i, a := range actual {
			if math.Abs(a-point[i]) <= b.HalfWidth*scaleAt(scale, i) {
				in++
			}
		}
		out[j] = Result{Level: b.Level, HalfWidth: b.HalfWidth, Width: b.HalfWidth * (twice / float64(n)),
			Coverage: float64(in) / float64(n), N: n}
	}
	return out, nil
}

// checkScaled refuses mismatched lengths and scales that are not
// positive finite numbers (a zero price would make every band infinite).
func checkScaled(actual, point, scale []float64) error {
	if len(actual) != len(point) {
		return fmt.Errorf("%d actual values for %d forecasts", len(actual), len(point))
	}
	if scale == nil {
		return nil
	}
	if len(scale) != len(actual) {
		return fmt.Errorf("%d actual values for %d scales", len(actual), len(scale))
	}
	for i, s := range scale {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("scale %d is %g, want a positive number", i, s)
		}
	}
	return nil
}

func scaleAt(scale []float64, i int) float64 {
	if scale == nil {
		return 1
	}
	return scale[i]
}
