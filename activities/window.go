package activities

import (
	"context"

	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// Window applies the transform to every split and cuts lookback-day
// windows labelled horizon days ahead. No window crosses a split boundary
// or a gap left by dropped rows.
func (a *Activities) Window(ctx context.Context, in steps.WindowInput) (steps.Splits, error) {
	if in.Lookback < 1 {
		return steps.Splits{}, invalid(steps.ErrInvalidParams, nil, "lookback must be at least 1, got %d", in.Lookback)
	}
	var t prep.Transform
	if err := a.readJSON(ctx, in.Transform, &t); err != nil {
		return steps.Splits{}, err
	}
	var out steps.Splits
	for i, ref := range in.Splits.Parts() {
		bars, err := a.readBars(ctx, *ref)
		if err != nil {
			return steps.Splits{}, err
		}
		w, err := prep.MakeWindows(bars, t, in.Lookback)
		if err != nil {
			return steps.Splits{}, invalid(steps.ErrInvalidData, err, "%s split: %v", splitNames[i], err)
		}
		dst, err := a.writeWindows(ctx, partKey{Inputs: in, Part: i}, w)
		if err != nil {
			return steps.Splits{}, err
		}
		*out.Parts()[i] = dst
	}
	return out, nil
}
