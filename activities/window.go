package activities

import (
	"context"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
)

// WindowInput is the scaled splits, their scaler and the window shape.
type WindowInput struct {
	Scaler   pipeline.DataRef `json:"scaler"`
	Splits   Splits           `json:"splits"`
	Lookback int              `json:"lookback"`
	Horizon  int              `json:"horizon"`
}

// Window makes lookback-step windows of Open inside each split, labelled
// with the Open horizon steps later. No window crosses a split boundary.
func (a *Activities) Window(ctx context.Context, in WindowInput) (Splits, error) {
	if in.Lookback < 1 || in.Horizon < 1 {
		return Splits{}, invalid(ErrInvalidParams, nil, "lookback and horizon must be at least 1, got %d and %d", in.Lookback, in.Horizon)
	}
	var scaler prep.MinMax
	if err := a.readJSON(ctx, in.Scaler, &scaler); err != nil {
		return Splits{}, err
	}
	var out Splits
	for i, ref := range in.Splits.parts() {
		bars, err := a.readBars(ctx, *ref)
		if err != nil {
			return Splits{}, err
		}
		raw := make([]float64, bars.Len())
		for r, v := range bars.Open {
			raw[r] = scaler.Inverse(v)
		}
		w, err := prep.Window(raw, bars.Open, bars, in.Lookback, in.Horizon)
		if err != nil {
			return Splits{}, invalid(ErrInvalidData, err, "split %d: %v", i, err)
		}
		dst, err := a.writeWindows(ctx, partKey{Inputs: in, Part: i}, w)
		if err != nil {
			return Splits{}, err
		}
		*out.parts()[i] = dst
	}
	return out, nil
}
