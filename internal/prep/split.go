// Package prep holds the pure data transforms of the pipeline: chronological
// split, missing-value filling, scaling and windowing. Activities call them on
// data read from the store; the API calls the same scaler and windowing on a
// request, so training and serving cannot drift apart.
package prep

import (
	"fmt"

	"github.com/finsight/finsight/internal/frame"
)

// Fractions are the chronological shares of train, validation and test.
type Fractions struct {
	Train float64 `json:"train"`
	Val   float64 `json:"val"`
	Test  float64 `json:"test"`
}

// DefaultFractions is the reference project's 70/10/20.
var DefaultFractions = Fractions{Train: 0.7, Val: 0.1, Test: 0.2}

// Validate checks that the shares are positive and sum to one.
func (f Fractions) Validate() error {
	if f.Train <= 0 || f.Val <= 0 || f.Test <= 0 {
		return fmt.Errorf("split fractions must be positive, got %+v", f)
	}
	if s := f.Train + f.Val + f.Test; s < 0.999 || s > 1.001 {
		return fmt.Errorf("split fractions must sum to 1, got %.4f", s)
	}
	return nil
}

// Split cuts bars in time order into train, validation and test; every row
// lands in exactly one part and no part is empty.
func Split(b *frame.Bars, f Fractions) (train, val, test *frame.Bars, err error) {
	if err := f.Validate(); err != nil {
		return nil, nil, nil, err
	}
	n := b.Len()
	nTrain := share(n, f.Train)
	nVal := share(n, f.Val)
	if nTrain < 1 || nVal < 1 || n-nTrain-nVal < 1 {
		return nil, nil, nil, fmt.Errorf("%d rows are too few to split %.0f/%.0f/%.0f", n, f.Train*100, f.Val*100, f.Test*100)
	}
	return b.Slice(0, nTrain), b.Slice(nTrain, nTrain+nVal), b.Slice(nTrain+nVal, n), nil
}

// share is floor(n*f), tolerant of float error: 90*0.7 is 62.99999999999999
// in float64, and plain truncation would give 62 rows, not 63.
func share(n int, f float64) int { return int(float64(n)*f + 1e-9) }
