package activities

import (
	"context"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

// FillResult references the filled splits and counts what changed.
type FillResult struct {
	Splits  Splits             `json:"splits"`
	Reports [3]prep.FillReport `json:"reports"` // train, val, test
}

// Fill forward-fills missing values in every split, carrying the last known
// values from each split into the next (the past only, never the future).
func (a *Activities) Fill(ctx context.Context, in Splits) (FillResult, error) {
	var out FillResult
	var carry []float64
	for i, ref := range in.parts() {
		bars, err := a.readBars(ctx, *ref)
		if err != nil {
			return FillResult{}, err
		}
		var filled *frame.Bars
		filled, carry, out.Reports[i] = prep.ForwardFill(bars, carry)
		if filled.Len() == 0 {
			return FillResult{}, invalid(ErrInvalidData, nil, "split %d has no row with every value present", i)
		}
		dst, err := a.writeBars(ctx, "fill", partKey{Inputs: in, Part: i}, filled)
		if err != nil {
			return FillResult{}, err
		}
		*out.Splits.parts()[i] = dst
	}
	return out, nil
}
