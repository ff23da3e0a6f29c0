package validate

import (
	"fmt"
	"math"
)

// Config holds the thresholds of the checks. A zero (or otherwise
// unusable: negative, NaN) field takes its default (DefaultConfig), so
// Config{} is usable; Validate reports unusable fields instead.
type Config struct {
	// JSThreshold flags drift_js when the Jensen–Shannon divergence (bits,
	// in [0, 1]) of the split's returns from the training returns exceeds it.
	JSThreshold float64 `json:"js_threshold"`
	// KSPValue flags drift_ks when the two-sample Kolmogorov–Smirnov
	// p-value falls below it.
	KSPValue float64 `json:"ks_p_value"`
	// MeanShiftK flags mean_shift when the mean return moved by more than
	// this many standard errors (Welch).
	MeanShiftK float64 `json:"mean_shift_k"`
	// StdRatio flags std_shift when the split's return std over the
	// training one lies outside [1/StdRatio, StdRatio]; must be > 1.
	StdRatio float64 `json:"std_ratio"`
	// OutlierZ flags outlier_return when |return − median| exceeds this
	// many robust standard deviations (1.4826·MAD) of the training returns.
	OutlierZ float64 `json:"outlier_z"`
	// GapDays reports a gap when consecutive rows are more than this many
	// calendar days apart.
	GapDays int `json:"gap_days"`
	// Bins is the histogram bin count of statistics and the number of
	// equal-mass bins of the JS divergence.
	Bins int `json:"bins"`
	// MinSamples is the fewest returns (in the split and in training) for
	// the drift, shift and outlier checks to run.
	MinSamples int `json:"min_samples"`
}

// DefaultConfig returns the thresholds used by the pipeline.
func DefaultConfig() Config {
	return Config{
		JSThreshold: 0.1,
		KSPValue:    0.001,
		MeanShiftK:  4,
		StdRatio:    2,
		OutlierZ:    8,
		GapDays:     4,
		Bins:        10,
		MinSamples:  50,
	}
}

// Validate rejects thresholds that cannot work (negative, NaN, a std ratio
// of at most 1, a JS threshold above 1, a p-value threshold of 1 or more).
// Zero fields are valid: they take their default.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"js_threshold", c.JSThreshold}, {"ks_p_value", c.KSPValue},
		{"mean_shift_k", c.MeanShiftK}, {"std_ratio", c.StdRatio},
		{"outlier_z", c.OutlierZ}, {"gap_days", float64(c.GapDays)},
		{"bins", float64(c.Bins)}, {"min_samples", float64(c.MinSamples)},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("validate config: %s must be a non-negative number, got %g", f.name, f.v)
		}
	}
	switch {
	case c.StdRatio != 0 && c.StdRatio <= 1:
		return fmt.Errorf("validate config: std_ratio must be > 1, got %g", c.StdRatio)
	case c.JSThreshold > 1:
		return fmt.Errorf("validate config: js_threshold must be at most 1 (bits), got %g", c.JSThreshold)
	case c.KSPValue >= 1:
		return fmt.Errorf("validate config: ks_p_value must be below 1, got %g", c.KSPValue)
	}
	return nil
}

// withDefaults replaces zero and unusable fields by their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.JSThreshold = orDefault(c.JSThreshold, d.JSThreshold)
	c.KSPValue = orDefault(c.KSPValue, d.KSPValue)
	c.MeanShiftK = orDefault(c.MeanShiftK, d.MeanShiftK)
	c.StdRatio = orDefault(c.StdRatio, d.StdRatio)
	if c.StdRatio <= 1 {
		c.StdRatio = d.StdRatio
	}
	c.OutlierZ = orDefault(c.OutlierZ, d.OutlierZ)
	c.GapDays = orDefault(c.GapDays, d.GapDays)
	c.Bins = orDefault(c.Bins, d.Bins)
	c.MinSamples = orDefault(c.MinSamples, d.MinSamples)
	return c
}

// orDefault returns def unless v is positive (NaN is not).
func orDefault[T int | float64](v, def T) T {
	if !(v > 0) {
		return def
	}
	return v
}
