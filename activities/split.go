package activities

import (
	"context"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

var splitNames = [3]string{"train", "val", "test"}

// Split cuts the raw bars chronologically (70/10/20 by default).
func (a *Activities) Split(ctx context.Context, in steps.SplitInput) (steps.Splits, error) {
	if err := in.Fractions.Validate(); err != nil && in.Tail == nil {
		return steps.Splits{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	bars, err := a.readBars(ctx, in.Raw)
	if err != nil {
		return steps.Splits{}, err
	}
	var train, val, test *frame.Bars
	if in.Tail != nil {
		train, val, test, err = prep.SplitTail(bars, *in.Tail)
	} else {
		train, val, test, err = prep.Split(bars, in.Fractions)
	}
	if err != nil {
		return steps.Splits{}, invalid(steps.ErrInvalidData, err, "split %s: %v", in.Raw.Key, err)
	}
	var out steps.Splits
	for i, part := range [3]*frame.Bars{train, val, test} {
		ref, err := a.writeBars(ctx, "split", partKey{Inputs: in, Part: i}, part)
		if err != nil {
			return steps.Splits{}, err
		}
		*out.Parts()[i] = ref
	}
	return out, nil
}

// partKey names one of several outputs computed from the same inputs.
type partKey struct {
	Inputs any `json:"inputs"`
	Part   int `json:"part"`
}
