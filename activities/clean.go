package activities

import (
	"context"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

// CleanInput is the raw splits and how to clean them.
type CleanInput struct {
	Splits Splits         `json:"splits"`
	Spec   prep.CleanSpec `json:"spec"`
}

// CleanResult references the cleaned splits and says what changed.
type CleanResult struct {
	Splits  Splits              `json:"splits"`
	Reports [3]prep.CleanReport `json:"reports"` // train, val, test
	Bounds  prep.Bounds         `json:"bounds"`  // accepted daily log-returns, fitted on train
}

// Clean treats missing values and outlying returns the same way in every
// split: missing values by the chosen strategy (carrying only past values
// across a split boundary), outliers judged on daily log-returns against
// bounds fitted on the training split.
func (a *Activities) Clean(ctx context.Context, in CleanInput) (CleanResult, error) {
	if err := in.Spec.Validate(); err != nil {
		return CleanResult{}, invalid(ErrInvalidParams, err, "%v", err)
	}
	var out CleanResult
	var carry []float64
	var prevPrices map[string]float64
	for i, ref := range in.Splits.parts() {
		bars, err := a.readBars(ctx, *ref)
		if err != nil {
			return CleanResult{}, err
		}
		var filled *frame.Bars
		filled, carry, out.Reports[i], err = prep.FillMissing(bars, carry, in.Spec.Missing)
		if err != nil {
			return CleanResult{}, invalid(ErrInvalidParams, err, "%v", err)
		}
		if filled.Len() == 0 {
			return CleanResult{}, invalid(ErrInvalidData, nil, "%s split has no row left after treating missing values", splitNames[i])
		}
		if i == 0 {
			if out.Bounds, err = prep.FitBounds(filled, in.Spec.Outliers); err != nil {
				return CleanResult{}, invalid(ErrInvalidData, err, "%v", err)
			}
		}
		cleaned, found, clipped := prep.HandleOutliers(filled, out.Bounds, in.Spec.Outliers, prevPrices)
		out.Reports[i].Outliers, out.Reports[i].Clipped = found, clipped
		out.Reports[i].DroppedRows += filled.Len() - cleaned.Len()
		prevPrices = prep.LastPrices(cleaned)
		cleaned.Lineage = lineageJSON("clean", in.Spec, *ref)
		dst, err := a.writeBars(ctx, "clean", partKey{Inputs: in, Part: i}, cleaned)
		if err != nil {
			return CleanResult{}, err
		}
		*out.Splits.parts()[i] = dst
	}
	return out, nil
}
