package activities

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/steps"
)

// Compare scores the new model, the base version (re-scored here with its
// own transform and lookback) and the naive forecast on exactly the test
// days all three forecast.
func (a *Activities) Compare(ctx context.Context, in steps.CompareInput) (pipeline.Comparison, error) {
	raw, err := a.readVerified(ctx, in.Predictions)
	if err != nil {
		return pipeline.Comparison{}, err
	}
	p, err := frame.ReadPredictions(bytes.NewReader(raw), a.Mem)
	if err != nil {
		return pipeline.Comparison{}, invalid(steps.ErrCorrupt, err, "decode predictions: %v", err)
	}
	base, err := a.championPredictions(ctx, registry.Registry{Store: a.Store}, in.Ticker, in.Base, in.Test)
	if err != nil {
		return pipeline.Comparison{}, err
	}
	var se, ae [3]float64
	out := pipeline.Comparison{}
	for i, d := range p.Date {
		b, ok := base[d]
		if !ok {
			continue
		}
		for k, f := range [3]float64{p.Predicted[i], b, p.Naive[i]} {
			e := f - p.Actual[i]
			se[k] += e * e
			ae[k] += math.Abs(e)
		}
		day := d.Format(frame.DateLayout)
		if out.Days == 0 {
			out.First = day
		}
		out.Last = day
		out.Days++
	}
	if out.Days == 0 {
		return out, invalid(steps.ErrInvalidData, nil, "v%d forecasts none of the new model's %d test days", in.Base, p.Len())
	}
	names := [3]string{"new model", fmt.Sprintf("v%d (base)", in.Base), "naive"}
	if in.Version > 0 {
		names[0] = fmt.Sprintf("v%d (new)", in.Version)
	}
	versions := [3]int{in.Version, in.Base, 0}
	n := float64(out.Days)
	for k := range names {
		out.Scores = append(out.Scores, pipeline.ModelScore{Name: names[k], Version: versions[k], RMSE: math.Sqrt(se[k] / n), MAE: ae[k] / n})
	}
	return out, nil
}
