package prep

import (
	"fmt"
	"math"
)

// MinMax maps a column linearly so that its training range becomes [0, 1].
// Values outside the training range map outside [0, 1]: that is
// extrapolation, and Coverage says how much of a split needs it.
type MinMax struct {
	Feature string  `json:"feature"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
}

// FitMinMax fits on the training values only.
func FitMinMax(feature string, train []float64) (MinMax, error) {
	s := MinMax{Feature: feature, Min: math.Inf(1), Max: math.Inf(-1)}
	for _, v := range train {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return s, fmt.Errorf("fit scaler on %s: non-finite value %v", feature, v)
		}
		s.Min = math.Min(s.Min, v)
		s.Max = math.Max(s.Max, v)
	}
	if len(train) == 0 {
		return s, fmt.Errorf("fit scaler on %s: no training values", feature)
	}
	if !(s.Max > s.Min) {
		return s, fmt.Errorf("fit scaler on %s: constant column (%g)", feature, s.Min)
	}
	return s, nil
}

// Transform scales one value.
func (s MinMax) Transform(v float64) float64 { return (v - s.Min) / (s.Max - s.Min) }

// Inverse maps a scaled value back to the original units.
func (s MinMax) Inverse(v float64) float64 { return v*(s.Max-s.Min) + s.Min }

// TransformAll scales a column into a new slice.
func (s MinMax) TransformAll(vs []float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = s.Transform(v)
	}
	return out
}

// Coverage is the share of values inside the training range.
func (s MinMax) Coverage(vs []float64) float64 {
	if len(vs) == 0 {
		return 1
	}
	in := 0
	for _, v := range vs {
		if v >= s.Min && v <= s.Max {
			in++
		}
	}
	return float64(in) / float64(len(vs))
}
