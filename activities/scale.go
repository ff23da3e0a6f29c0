package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// Scale fits the transform's scalers on the training split only and saves
// it; Window applies it to every split.
func (a *Activities) Scale(ctx context.Context, in steps.ScaleInput) (steps.ScaleResult, error) {
	if err := in.Spec.Validate(); err != nil {
		return steps.ScaleResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	train, err := a.readBars(ctx, in.Splits.Train)
	if err != nil {
		return steps.ScaleResult{}, err
	}
	t, err := prep.FitTransform(in.Spec, train, in.Horizon)
	if err != nil {
		return steps.ScaleResult{}, invalid(steps.ErrInvalidData, err, "%v", err)
	}
	raw, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return steps.ScaleResult{}, fmt.Errorf("encode transform: %w", err)
	}
	key, err := derivedKey("scale", "json", in)
	if err != nil {
		return steps.ScaleResult{}, err
	}
	out := steps.ScaleResult{}
	if out.Transform, err = a.putImmutable(ctx, key, raw, 0); err != nil {
		return steps.ScaleResult{}, err
	}
	for i, ref := range in.Splits.Parts() {
		bars := train
		if i > 0 {
			if bars, err = a.readBars(ctx, *ref); err != nil {
				return steps.ScaleResult{}, err
			}
		}
		out.Coverage[i] = t.Coverage(bars)
	}
	return out, nil
}
