package activities

import (
	"context"
	"math"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// BacktestSummarize scores every model on every fold's forecasts, against
// naive on the same days, summarises each across folds
// (backtest.Summarize: spread of RMSE, MAE, MASE and directional
// accuracy, folds beating naive, pooled Diebold–Mariano), sums up the
// intervals, and writes it all to backtests/<id>/summary.json.
func (a *Activities) BacktestSummarize(ctx context.Context, in steps.BacktestSummarizeInput) (steps.BacktestSummarizeResult, error) {
	folds := make([]backtest.FoldForecasts, len(in.Folds))
	for i, f := range in.Folds {
		fc, err := a.readForecasts(ctx, f.Forecasts)
		if err != nil {
			return steps.BacktestSummarizeResult{}, err
		}
		folds[i] = foldForecasts(f.Fold.Index, fc)
	}
	summary, err := backtest.Summarize(folds, max(in.Horizon, 1))
	if err != nil {
		return steps.BacktestSummarizeResult{}, invalid(steps.ErrInvalidData, err, "%v", err)
	}
	out := steps.BacktestSummarizeResult{Summary: summary, Intervals: intervalSummaries(in.Folds)}
	key := pipeline.BacktestSummaryKey(in.BacktestID)
	if err := blob.PutJSON(ctx, a.Store, key, struct {
		steps.BacktestSummarizeResult
		Folds []pipeline.BacktestFoldResult `json:"folds"`
	}{out, in.Folds}); err != nil {
		return steps.BacktestSummarizeResult{}, a.writeErr(key, err)
	}
	out.SummaryURI = a.Store.URI(key)
	return out, nil
}

func (a *Activities) readForecasts(ctx context.Context, ref blob.Ref) (*frame.Forecasts, error) {
	f, closeFn, err := a.openVerified(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	fc, err := frame.ReadForecasts(f, a.Mem)
	if err != nil {
		return nil, a.corrupt(ref.Key, "%v", err)
	}
	return fc, nil
}

func foldForecasts(k int, fc *frame.Forecasts) backtest.FoldForecasts {
	out := backtest.FoldForecasts{Fold: k, Actual: fc.Actual, Last: fc.Last}
	for i, m := range fc.Models {
		out.Models = append(out.Models, backtest.ModelForecast{Model: m, Pred: fc.Pred[i]})
	}
	return out
}

// intervalSummaries averages each model's band at each level over the
// folds, in the order the folds list models and levels, and compares its
// width with naive's.
func intervalSummaries(folds []pipeline.BacktestFoldResult) []pipeline.IntervalSummary {
	type key struct {
		model string
		level float64
	}
	var order []key
	acc := map[key]*pipeline.IntervalSummary{}
	for _, f := range folds {
		for _, mi := range f.Intervals {
			for _, r := range mi.Results {
				k := key{mi.Model, r.Level}
				s, ok := acc[k]
				if !ok {
					s = &pipeline.IntervalSummary{Model: mi.Model, Level: r.Level, Scale: mi.Scale, MinCoverage: math.Inf(1)}
					acc[k] = s
					order = append(order, k)
				}
				s.Folds++
				s.MeanCoverage += r.Coverage
				s.MeanWidth += r.Width
				s.MinCoverage = math.Min(s.MinCoverage, r.Coverage)
			}
		}
	}
	out := make([]pipeline.IntervalSummary, 0, len(order))
	for _, k := range order {
		s := acc[k]
		s.MeanCoverage /= float64(s.Folds)
		s.MeanWidth /= float64(s.Folds)
		out = append(out, *s)
	}
	for i := range out {
		out[i].WidthVsNaive = metrics.Maybe(math.NaN())
		for _, n := range out {
			if n.Model == "naive" && n.Level == out[i].Level && n.MeanWidth > 0 {
				out[i].WidthVsNaive = metrics.Maybe(out[i].MeanWidth / n.MeanWidth)
			}
		}
	}
	return out
}
