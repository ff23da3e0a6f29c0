package hpo

import (
	"math"
	"sort"
)

// MedianPruner is Optuna's median stopping rule. A trial is pruned at an
// epoch when
//
//   - epoch > Warmup,
//   - at least max(MinTrials, 1) other curves have a value (not NaN) at
//     that epoch; shorter curves are ignored, and
//   - its value is strictly worse (greater) than the median of those
//     others' values at that epoch; equal to the median is kept.
//
// Like Optuna, the reference is each other trial's value at the same epoch
// (Optuna's _get_percentile_intermediate_result_over_trials), not its best
// up to that epoch. Optuna compares the pruned trial's own best value so
// far; callers that want exactly that pass the minimum of the trial's curve
// up to epoch as value. A NaN or +Inf value (diverged) is pruned once the
// other two conditions hold, as Optuna prunes a NaN best. Optuna takes the
// reference curves from completed trials only; which curves to pass is the
// caller's choice.
type MedianPruner struct {
	Warmup    int `json:"warmup"`     // epochs before pruning can happen
	MinTrials int `json:"min_trials"` // reference curves needed at the epoch
}

// ShouldPrune decides at epoch (1-based) given this trial's value at that
// epoch and the other trials' validation-loss curves (index epoch-1).
func (p MedianPruner) ShouldPrune(epoch int, value float64, others [][]float64) bool {
	if epoch < 1 || epoch <= p.Warmup {
		return false
	}
	var ref []float64
	for _, c := range others {
		if len(c) >= epoch && !math.IsNaN(c[epoch-1]) {
			ref = append(ref, c[epoch-1])
		}
	}
	if len(ref) == 0 || len(ref) < p.MinTrials {
		return false
	}
	if math.IsNaN(value) {
		return true
	}
	return value > median(ref)
}

// median sorts xs in place and returns its median.
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
