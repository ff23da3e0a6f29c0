package activities

import (
	"context"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// Clean treats missing values and outlying returns the same way in every
// split: missing values by the chosen strategy (carrying only past values
// across a split boundary), outliers judged on daily log-returns against
// bounds fitted on the training split.
func (a *Activities) Clean(ctx context.Context, in steps.CleanInput) (steps.CleanResult, error) {
	if err := in.Spec.Validate(); err != nil {
		return steps.CleanResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	var out steps.CleanResult
	var carry []float64
	var prevPrices map[string]float64
	for i, ref := range in.Splits.Parts() {
		bars, err := a.readBars(ctx, *ref)
		if err != nil {
			return steps.CleanResult{}, err
		}
		var filled *frame.Bars
		filled, carry, out.Reports[i], err = prep.FillMissing(bars, carry, in.Spec.Missing)
		if err != nil {
			return steps.CleanResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
		}
		if filled.Len() == 0 {
			return steps.CleanResult{}, invalid(steps.ErrInvalidData, nil, "%s split has no row left after treating missing values", splitNames[i])
		}
		if i == 0 {
			if out.Bounds, err = prep.FitBounds(filled, in.Spec.Outliers); err != nil {
				return steps.CleanResult{}, invalid(steps.ErrInvalidData, err, "%v", err)
			}
		}
		cleaned, found, clipped := prep.HandleOutliers(filled, out.Bounds, in.Spec.Outliers, prevPrices)
		out.Reports[i].Outliers, out.Reports[i].Clipped = found, clipped
		out.Reports[i].DroppedRows += filled.Len() - cleaned.Len()
		prevPrices = prep.LastPrices(cleaned)
		cleaned.Lineage = lineageJSON("clean", in.Spec, *ref)
		dst, err := a.writeBars(ctx, "clean", partKey{Inputs: in, Part: i}, cleaned)
		if err != nil {
			return steps.CleanResult{}, err
		}
		*out.Splits.Parts()[i] = dst
	}
	return out, nil
}
