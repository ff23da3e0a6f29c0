package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/prep"
)

// ScaleInput is the cleaned splits and the transform to fit.
type ScaleInput struct {
	Splits  Splits             `json:"splits"`
	Spec    prep.TransformSpec `json:"spec"`
	Horizon int                `json:"horizon"`
}

// ScaleResult references the fitted transform (scalers included).
type ScaleResult struct {
	Transform blob.Ref              `json:"transform"`
	Coverage  [3]map[string]float64 `json:"coverage"` // per split, share of each feature inside the training range
}

// Scale fits the transform's scalers on the training split only and saves
// it; Window applies it to every split.
func (a *Activities) Scale(ctx context.Context, in ScaleInput) (ScaleResult, error) {
	if err := in.Spec.Validate(); err != nil {
		return ScaleResult{}, invalid(ErrInvalidParams, err, "%v", err)
	}
	train, err := a.readBars(ctx, in.Splits.Train)
	if err != nil {
		return ScaleResult{}, err
	}
	t, err := prep.FitTransform(in.Spec, train, in.Horizon)
	if err != nil {
		return ScaleResult{}, invalid(ErrInvalidData, err, "%v", err)
	}
	raw, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return ScaleResult{}, fmt.Errorf("encode transform: %w", err)
	}
	key, err := derivedKey("scale", "json", in)
	if err != nil {
		return ScaleResult{}, err
	}
	out := ScaleResult{}
	if out.Transform, err = a.putImmutable(ctx, key, raw, 0); err != nil {
		return ScaleResult{}, err
	}
	for i, ref := range in.Splits.parts() {
		bars := train
		if i > 0 {
			if bars, err = a.readBars(ctx, *ref); err != nil {
				return ScaleResult{}, err
			}
		}
		out.Coverage[i] = t.Coverage(bars)
	}
	return out, nil
}
