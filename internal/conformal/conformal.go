// Package conformal turns a model's calibration residuals into prediction
// intervals with a finite-sample coverage guarantee (split conformal
// prediction): if the calibration and future errors are exchangeable, an
// interval at level α covers the truth with probability at least α, for
// any model and any error distribution.
package conformal

import (
	"fmt"
	"math"
	"sort"
)

// DefaultLevels are the intervals reported when none are asked for.
func DefaultLevels() []float64 { return []float64{0.8, 0.95} }

// Band is a symmetric interval, point ± HalfWidth, calibrated at Level on
// N residuals.
type Band struct {
	Level     float64 `json:"level"`
	HalfWidth float64 `json:"half_width"`
	N         int     `json:"n"`
}

// Interval is the band around one point forecast.
func (b Band) Interval(point float64) (lo, hi float64) {
	return point - b.HalfWidth, point + b.HalfWidth
}

// Width is the interval's width, the same for every forecast.
func (b Band) Width() float64 { return 2 * b.HalfWidth }

// Calibrate makes one band per level from calibration residuals (actual −
// forecast on data the model was not fitted on, e.g. validation). The
// half-width is the k-th smallest |residual| with k = ⌈(n+1)·α⌉: the +1
// makes the guarantee hold for finite n. When k > n the interval would be
// infinite; that is refused with the number of residuals the level needs.
func Calibrate(residuals, levels []float64) ([]Band, error) {
	n := len(residuals)
	if n == 0 {
		return nil, fmt.Errorf("conformal: no calibration residuals")
	}
	abs := make([]float64, n)
	for i, r := range residuals {
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("conformal: calibration residual %d is %g", i, r)
		}
		abs[i] = math.Abs(r)
	}
	sort.Float64s(abs)
	bands := make([]Band, len(levels))
	for i, level := range levels {
		if !(level > 0 && level < 1) {
			return nil, fmt.Errorf("conformal: level %g must be between 0 and 1", level)
		}
		k := rank(n, level)
		if k > n {
			return nil, fmt.Errorf("conformal: level %g needs at least %d calibration residuals, got %d",
				level, minResiduals(level), n)
		}
		bands[i] = Band{Level: level, HalfWidth: abs[k-1], N: n}
	}
	return bands, nil
}

// rank is ⌈(n+1)·level⌉, tolerant of float error: (99+1)·0.55 is
// 55.00000000000001 in float64 and must give 55, not 56.
func rank(n int, level float64) int {
	return int(math.Ceil(float64(n+1)*level - 1e-9))
}

// minResiduals is the smallest n with ⌈(n+1)·level⌉ ≤ n.
func minResiduals(level float64) int {
	n := 1
	for rank(n, level) > n {
		n++
	}
	return n
}

// Coverage is the share of actual values inside their band, bounds
// included (the guarantee counts ties as covered).
func Coverage(actual, point []float64, b Band) (float64, error) {
	if len(actual) != len(point) {
		return 0, fmt.Errorf("conformal coverage: %d actual values for %d forecasts", len(actual), len(point))
	}
	if len(actual) == 0 {
		return 0, fmt.Errorf("conformal coverage: no values")
	}
	in := 0
	for i, a := range actual {
		if math.Abs(a-point[i]) <= b.HalfWidth {
			in++
		}
	}
	return float64(in) / float64(len(actual)), nil
}

// Result is how one band did on held-out data.
type Result struct {
	Level     float64 `json:"level"`
	HalfWidth float64 `json:"half_width"`
	Width     float64 `json:"width"`
	Coverage  float64 `json:"coverage"` // should be close to Level
	N         int     `json:"n"`        // held-out values
}

// Evaluate measures every band's coverage on actual values and their
// point forecasts, e.g. one fold's test block.
func Evaluate(actual, point []float64, bands []Band) ([]Result, error) {
	out := make([]Result, len(bands))
	for i, b := range bands {
		cov, err := Coverage(actual, point, b)
		if err != nil {
			return nil, fmt.Errorf("level %g: %w", b.Level, err)
		}
		out[i] = Result{Level: b.Level, HalfWidth: b.HalfWidth, Width: b.Width(), Coverage: cov, N: len(actual)}
	}
	return out, nil
}

// Residuals are actual − forecast, the input Calibrate expects.
func Residuals(actual, point []float64) ([]float64, error) {
	if len(actual) != len(point) {
		return nil, fmt.Errorf("conformal residuals: %d actual values for %d forecasts", len(actual), len(point))
	}
	out := make([]float64, len(actual))
	for i, a := range actual {
		out[i] = a - point[i]
	}
	return out, nil
}
