package hpo

import (
	"math"
	"sort"
)

// MedianPruner stops a trial whose best value so far is worse than the
// median of the other trials' best values up to the same epoch (Optuna's
// MedianPruner), after Warmup epochs and once MinTrials others reached it.
type MedianPruner struct {
	Warmup    int `json:"warmup"`
	MinTrials int `json:"min_trials"`
}

// ShouldPrune decides at epoch (1-based) given this trial's value at that
// epoch and the other trials' curves (index epoch-1).
func (p MedianPruner) ShouldPrune(epoch int, value float64, others [][]float64) bool {
	if epoch <= p.Warmup || math.IsNaN(value) {
		return false
	}
	var bests []float64
	for _, c := range others {
		if len(c) < epoch {
			continue
		}
		b := math.Inf(1)
		for _, v := range c[:epoch] {
			if !math.IsNaN(v) {
				b = math.Min(b, v)
			}
		}
		if !math.IsInf(b, 1) {
			bests = append(bests, b)
		}
	}
	if len(bests) == 0 || len(bests) < p.MinTrials {
		return false
	}
	sort.Float64s(bests)
	n := len(bests)
	median := bests[n/2]
	if n%2 == 0 {
		median = (bests[n/2-1] + bests[n/2]) / 2
	}
	return value > median
}
