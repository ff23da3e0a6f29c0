// Package metrics scores forecasts in price units.
package metrics

import (
	"fmt"
	"math"
)

// Scores are the errors of one forecaster on one set of targets.
type Scores struct {
	RMSE float64 `json:"rmse"`
	MAE  float64 `json:"mae"`
	MAPE Maybe   `json:"mape"` // percent; undefined when every actual is 0
	N    int     `json:"n"`
}

// Score compares predictions with actual values of the same length.
// MAPE skips zero actuals (undefined there).
func Score(actual, pred []float64) (Scores, error) {
	if len(actual) != len(pred) {
		return Scores{}, fmt.Errorf("score: %d actual values for %d predictions", len(actual), len(pred))
	}
	if len(actual) == 0 {
		return Scores{}, fmt.Errorf("score: no values")
	}
	var se, ae, ape float64
	nPct := 0
	for i, a := range actual {
		e := pred[i] - a
		se += e * e
		ae += math.Abs(e)
		if a != 0 {
			ape += math.Abs(e / a)
			nPct++
		}
	}
	n := float64(len(actual))
	s := Scores{RMSE: math.Sqrt(se / n), MAE: ae / n, N: len(actual), MAPE: Maybe(math.NaN())}
	if nPct > 0 {
		s.MAPE = Maybe(100 * ape / float64(nPct))
	}
	return s, nil
}
