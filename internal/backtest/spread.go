package backtest

import (
	"math"

	"github.com/finsight/finsight/internal/metrics"
)

// Spread describes one metric across folds. Folds where the metric is
// undefined (NaN, e.g. MASE when naive made no error) are left out and
// not counted in N.
type Spread struct {
	Mean metrics.Maybe `json:"mean"`
	// Std is the sample standard deviation (n−1), null with one fold: the
	// folds are a sample of the periods the model could meet.
	Std metrics.Maybe `json:"std"`
	Min metrics.Maybe `json:"min"`
	Max metrics.Maybe `json:"max"`
	N   int           `json:"n"`
}

// spreadOf summarises vs, skipping NaN and infinite values.
func spreadOf(vs []float64) Spread {
	nan := metrics.Maybe(math.NaN())
	s := Spread{Mean: nan, Std: nan, Min: nan, Max: nan}
	var sum float64
	lo, hi := math.Inf(1), math.Inf(-1)
	var kept []float64
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		kept = append(kept, v)
		sum += v
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	s.N = len(kept)
	if s.N == 0 {
		return s
	}
	mean := sum / float64(s.N)
	s.Mean, s.Min, s.Max = metrics.Maybe(mean), metrics.Maybe(lo), metrics.Maybe(hi)
	if s.N > 1 {
		var sq float64
		for _, v := range kept {
			sq += (v - mean) * (v - mean)
		}
		s.Std = metrics.Maybe(math.Sqrt(sq / float64(s.N-1)))
	}
	return s
}
