package activities

import (
	"bytes"
	"context"
	"fmt"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// Merge writes a new raw version data/raw/<ticker>/<sha256>.arrow: the
// base's rows plus the new files' new days, in date order, with a lineage
// (in the Arrow metadata) that names every parent. Days present twice must
// agree (CheckNewData rejected files that do not); a disagreement here
// fails the step rather than overwrite anything.
func (a *Activities) Merge(ctx context.Context, in steps.MergeInput) (steps.MergeResult, error) {
	acc, err := a.readBars(ctx, in.Base)
	if err != nil {
		return steps.MergeResult{}, err
	}
	out := steps.MergeResult{Parents: append([]blob.Ref{in.Base}, in.Files...)}
	for _, ref := range in.Files {
		b, err := a.readBars(ctx, ref)
		if err != nil {
			return steps.MergeResult{}, err
		}
		merged, rep, err := prep.Merge(acc, b)
		if err != nil {
			return steps.MergeResult{}, invalid(steps.ErrInvalidData, err, "merge %s: %v", ref.Key, err)
		}
		if rep.First != "" && (out.NewFrom == "" || rep.First < out.NewFrom) {
			out.NewFrom = rep.First
		}
		out.NewRows += rep.NewRows
		acc = merged
	}
	if out.NewRows == 0 {
		return steps.MergeResult{}, invalid(steps.ErrInvalidData, nil, "the new files add no day to %s", in.Base.Key)
	}
	acc.Lineage = lineageJSON("merge", nil, out.Parents...)
	var buf bytes.Buffer
	if err := frame.WriteBars(&buf, acc, a.Mem); err != nil {
		return steps.MergeResult{}, fmt.Errorf("encode merged bars: %w", err)
	}
	key := fmt.Sprintf("data/raw/%s/%s.arrow", in.Ticker, blob.ContentHash(buf.Bytes()))
	if out.Raw, err = a.putImmutable(ctx, key, buf.Bytes(), acc.Len()); err != nil {
		return steps.MergeResult{}, err
	}
	return out, nil
}
