package activities

import (
	"bytes"
	"context"
	"fmt"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/model"
)

// Evaluate scores the model on the test windows in price units, beside the
// naive forecast (next Open = last Open) on exactly the same targets.
func (a *Activities) Evaluate(ctx context.Context, in steps.EvaluateInput) (steps.EvaluateResult, error) {
	if err := pipeline.CheckIntervalLevels(in.Levels); err != nil {
		return steps.EvaluateResult{}, invalid(steps.ErrInvalidParams, err, "evaluate: %v", err)
	}
	raw, err := a.readVerified(ctx, in.Weights)
	if err != nil {
		return steps.EvaluateResult{}, err
	}
	m, err := model.Load(raw, in.Config, a.Device)
	if err != nil {
		return steps.EvaluateResult{}, invalid(steps.ErrInvalidData, err, "load %s: %v", in.Weights.Key, err)
	}
	defer m.Close()
	var t prep.Transform
	if err := a.readJSON(ctx, in.Transform, &t); err != nil {
		return steps.EvaluateResult{}, err
	}
	test, err := a.readWindows(ctx, in.Test)
	if err != nil {
		return steps.EvaluateResult{}, err
	}
	pred, err := forecastPrices(m, t, test)
	if err != nil {
		return steps.EvaluateResult{}, fmt.Errorf("predict test: %w", err)
	}
	cmp, err := metrics.Compare(test.Target, pred, test.Last)
	if err != nil {
		return steps.EvaluateResult{}, fmt.Errorf("score: %w", err)
	}
	out := steps.EvaluateResult{Metrics: metrics.TestSummary{
		TestRMSE: cmp.Model.RMSE, TestMAE: cmp.Model.MAE, TestMAPE: cmp.Model.MAPE,
		NaiveRMSE: cmp.Naive.RMSE, NaiveMAE: cmp.Naive.MAE, NaiveMAPE: cmp.Naive.MAPE,
		N:         cmp.Model.N,
		FirstDate: test.TargetDate[0].Format("2006-01-02"),
		LastDate:  test.TargetDate[len(test.TargetDate)-1].Format("2006-01-02"),
	}}
	if out.Metrics.Intervals, err = a.intervals(ctx, in, m, t, test, pred); err != nil {
		return steps.EvaluateResult{}, err
	}
	out.Efficacy.Overall = cmp
	if out.Efficacy.ByYear, err = metrics.ByYear(test.TargetDate, test.Target, pred, test.Last); err != nil {
		return steps.EvaluateResult{}, fmt.Errorf("slice by year: %w", err)
	}
	if vol, err := metrics.ByVolatility(test.Target, pred, test.Last, 20); err == nil {
		out.Efficacy.ByVolatility = vol
	}
	p := &frame.Predictions{Date: test.TargetDate, Actual: test.Target, Predicted: pred, Naive: test.Last}
	var buf bytes.Buffer
	if err := frame.WritePredictions(&buf, p, a.Mem); err != nil {
		return steps.EvaluateResult{}, fmt.Errorf("encode predictions: %w", err)
	}
	out.Predictions = blob.Ref{Key: runs.PredictionsKey(in.RunID), SHA256: blob.ContentHash(buf.Bytes()), Rows: p.Len()}
	if err := a.Store.Put(ctx, out.Predictions.Key, &buf); err != nil {
		return steps.EvaluateResult{}, a.writeErr(out.Predictions.Key, err)
	}
	return out, nil
}
