package metrics

import (
	"fmt"
	"math"
)

// CumulativeSquaredErrorDiff returns, day by day, the running sum of
// (naive error)² − (model error)²: it rises where the model beats the
// naive forecast and falls where naive wins, so a small but steady edge
// shows as a slope. A day with a non-finite value adds nothing.
func CumulativeSquaredErrorDiff(actual, model, naive []float64) ([]float64, error) {
	if len(model) != len(actual) || len(naive) != len(actual) {
		return nil, fmt.Errorf("cumulative squared error difference: %d actual values, %d model, %d naive",
			len(actual), len(model), len(naive))
	}
	out := make([]float64, len(actual))
	sum := 0.0
	for i, a := range actual {
		em, en := model[i]-a, naive[i]-a
		if d := en*en - em*em; !math.IsNaN(d) && !math.IsInf(d, 0) {
			sum += d
		}
		out[i] = sum
	}
	return out, nil
}
