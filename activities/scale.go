package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
)

// ScaleResult references the saved scaler and the scaled splits.
type ScaleResult struct {
	Scaler   pipeline.DataRef `json:"scaler"`
	Splits   Splits           `json:"splits"`
	Coverage [3]float64       `json:"coverage"` // share of Open inside the training range
}

// Scale fits a min-max scaler on the training Open only, saves it, and
// applies it to every split (the Open column is replaced by its scaled value).
func (a *Activities) Scale(ctx context.Context, in Splits) (ScaleResult, error) {
	train, err := a.readBars(ctx, in.Train)
	if err != nil {
		return ScaleResult{}, err
	}
	scaler, err := prep.FitMinMax("open", train.Open)
	if err != nil {
		return ScaleResult{}, invalid(ErrInvalidData, err, "%v", err)
	}
	raw, err := json.Marshal(scaler)
	if err != nil {
		return ScaleResult{}, fmt.Errorf("encode scaler: %w", err)
	}
	key, err := derivedKey("scaler", "json", in.Train)
	if err != nil {
		return ScaleResult{}, err
	}
	out := ScaleResult{}
	if out.Scaler, err = a.putImmutable(ctx, key, raw, 0); err != nil {
		return ScaleResult{}, err
	}
	for i, ref := range in.parts() {
		bars := train
		if i > 0 {
			if bars, err = a.readBars(ctx, *ref); err != nil {
				return ScaleResult{}, err
			}
		}
		out.Coverage[i] = scaler.Coverage(bars.Open)
		scaled := bars.Slice(0, bars.Len())
		scaled.Open = scaler.TransformAll(bars.Open)
		dst, err := a.writeBars(ctx, "scale", partKey{Inputs: scaleKey{in, scaler}, Part: i}, scaled)
		if err != nil {
			return ScaleResult{}, err
		}
		*out.Splits.parts()[i] = dst
	}
	return out, nil
}

type scaleKey struct {
	Splits Splits      `json:"splits"`
	Scaler prep.MinMax `json:"scaler"`
}
