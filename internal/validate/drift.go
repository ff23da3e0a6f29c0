package validate

import (
	"fmt"
	"math"
)

// appendDrift compares the sorted returns of one split column with the
// training statistics of that column: distribution drift (JS divergence,
// KS test) and shifts of the mean and standard deviation. It does nothing
// when either side has fewer than cfg.MinSamples returns.
func appendDrift(out []Anomaly, name string, sorted []float64, train ColumnStats, cfg Config) []Anomaly {
	if len(sorted) < cfg.MinSamples || train.Count < cfg.MinSamples || len(train.Quantiles) < 2 {
		return out
	}
	if js := jsAgainstSketch(sorted, train.Quantiles, cfg.Bins); js > cfg.JSThreshold {
		out = append(out, splitAnomaly(SeverityWarning, RuleDriftJS, name,
			fmt.Sprintf("Jensen–Shannon divergence %.4f bits from training over %d equal-mass bins > %g", js, cfg.Bins, cfg.JSThreshold), js))
	}
	d := ksAgainstSketch(sorted, train.Quantiles)
	if p := ksPValue(d, len(sorted), train.Count); p < cfg.KSPValue {
		out = append(out, splitAnomaly(SeverityWarning, RuleDriftKS, name,
			fmt.Sprintf("Kolmogorov–Smirnov D %.4f (n %d vs %d), p-value %.3g < %g", d, len(sorted), train.Count, p, cfg.KSPValue), p))
	}
	return appendShifts(out, name, sorted, train, cfg)
}

// appendShifts reports a mean moved by more than cfg.MeanShiftK standard
// errors (Welch) and a std ratio outside [1/cfg.StdRatio, cfg.StdRatio].
func appendShifts(out []Anomaly, name string, values []float64, train ColumnStats, cfg Config) []Anomaly {
	mean, std := meanStd(values)
	n := float64(len(values))
	se := math.Sqrt(train.Std*train.Std/float64(train.Count) + std*std/n)
	if se > 0 {
		if k := (mean - train.Mean) / se; math.Abs(k) > cfg.MeanShiftK {
			out = append(out, splitAnomaly(SeverityWarning, RuleMeanShift, name,
				fmt.Sprintf("mean %.6f vs training %.6f: %.1f standard errors (> %g)", mean, train.Mean, k, cfg.MeanShiftK), k))
		}
	}
	if train.Std > 0 {
		if r := std / train.Std; r > cfg.StdRatio || r < 1/cfg.StdRatio {
			out = append(out, splitAnomaly(SeverityWarning, RuleStdShift, name,
				fmt.Sprintf("std %.6f vs training %.6f: ratio %.3f outside [%.3g, %g]", std, train.Std, r, 1/cfg.StdRatio, cfg.StdRatio), r))
		}
	}
	return out
}
