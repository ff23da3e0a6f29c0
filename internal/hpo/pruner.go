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
	return p.ShouldPruneAt(epoch, value, NewReference(others))
}

// ShouldPruneAt is ShouldPrune against a Reference made from the other
// trials' curves: the same decision from O(epochs) numbers.
func (p MedianPruner) ShouldPruneAt(epoch int, value float64, ref Reference) bool {
	if epoch < 1 || epoch <= p.Warmup || epoch > len(ref.Counts) {
		return false
	}
	n := ref.Counts[epoch-1]
	if n == 0 || n < p.MinTrials {
		return false
	}
	if math.IsNaN(value) {
		return true
	}
	return value > ref.Medians[epoch-1]
}

// Reference is what the median rule needs to know about the finished
// trials: per epoch (index epoch-1), how many curves have a value (not NaN)
// there and the median of those values. A search passes it to each trial
// instead of every finished curve, so a trial's input does not grow with
// the number of trials.
type Reference struct {
	Medians []float64 `json:"medians"`
	Counts  []int     `json:"counts"`
}

// NewReference summarises curves per epoch.
func NewReference(curves [][]float64) Reference {
	longest := 0
	for _, c := range curves {
		longest = max(longest, len(c))
	}
	ref := Reference{Medians: make([]float64, longest), Counts: make([]int, longest)}
	vals := make([]float64, 0, len(curves))
	for e := range longest {
		vals = vals[:0]
		for _, c := range curves {
			if len(c) > e && !math.IsNaN(c[e]) {
				vals = append(vals, c[e])
			}
		}
		ref.Counts[e] = len(vals)
		if len(vals) > 0 {
			ref.Medians[e] = median(vals)
		}
	}
	return ref
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
