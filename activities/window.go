package activities

import (
	"context"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/prep"
)

// WindowInput is the cleaned splits, the fitted transform and the lookback.
type WindowInput struct {
	Transform blob.Ref `json:"transform"`
	Splits    Splits   `json:"splits"`
	Lookback  int      `json:"lookback"`
}

// Window applies the transform to every split and cuts lookback-day
// windows labelled horizon days ahead. No window crosses a split boundary
// or a gap left by dropped rows.
func (a *Activities) Window(ctx context.Context, in WindowInput) (Splits, error) {
	if in.Lookback < 1 {
		return Splits{}, invalid(ErrInvalidParams, nil, "lookback must be at least 1, got %d", in.Lookback)
	}
	var t prep.Transform
	if err := a.readJSON(ctx, in.Transform, &t); err != nil {
		return Splits{}, err
	}
	var out Splits
	for i, ref := range in.Splits.parts() {
		bars, err := a.readBars(ctx, *ref)
		if err != nil {
			return Splits{}, err
		}
		w, err := prep.MakeWindows(bars, t, in.Lookback)
		if err != nil {
			return Splits{}, invalid(ErrInvalidData, err, "%s split: %v", splitNames[i], err)
		}
		dst, err := a.writeWindows(ctx, partKey{Inputs: in, Part: i}, w)
		if err != nil {
			return Splits{}, err
		}
		*out.parts()[i] = dst
	}
	return out, nil
}
