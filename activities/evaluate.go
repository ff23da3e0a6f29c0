package activities

import (
	"context"
	"fmt"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/model"
)

// EvaluateInput is a trained model and the data to score it on.
type EvaluateInput struct {
	Weights   pipeline.DataRef `json:"weights"`
	Config    model.Config     `json:"config"`
	Transform pipeline.DataRef `json:"transform"`
	Test      pipeline.DataRef `json:"test"`
}

// EvaluateResult holds model and naive scores on the same test targets.
type EvaluateResult struct {
	Metrics pipeline.Metrics `json:"metrics"`
}

// Evaluate scores the model on the test windows in price units, beside the
// naive forecast (next Open = last Open) on exactly the same targets.
func (a *Activities) Evaluate(ctx context.Context, in EvaluateInput) (EvaluateResult, error) {
	raw, err := a.readVerified(ctx, in.Weights)
	if err != nil {
		return EvaluateResult{}, err
	}
	m, err := model.Load(raw, in.Config, a.Device)
	if err != nil {
		return EvaluateResult{}, invalid(ErrInvalidData, err, "load %s: %v", in.Weights.Key, err)
	}
	defer m.Close()
	var t prep.Transform
	if err := a.readJSON(ctx, in.Transform, &t); err != nil {
		return EvaluateResult{}, err
	}
	test, err := a.readWindows(ctx, in.Test)
	if err != nil {
		return EvaluateResult{}, err
	}
	scaled, err := m.Predict(test.X)
	if err != nil {
		return EvaluateResult{}, fmt.Errorf("predict test: %w", err)
	}
	pred := make([]float64, len(scaled))
	for i, v := range scaled {
		pred[i] = t.Price(test.Last[i], float64(v))
	}
	ms, err := metrics.Score(test.Target, pred)
	if err != nil {
		return EvaluateResult{}, fmt.Errorf("score model: %w", err)
	}
	naive, err := metrics.Score(test.Target, test.Last)
	if err != nil {
		return EvaluateResult{}, fmt.Errorf("score naive: %w", err)
	}
	return EvaluateResult{Metrics: pipeline.Metrics{
		TestRMSE: ms.RMSE, TestMAE: ms.MAE, TestMAPE: ms.MAPE,
		NaiveRMSE: naive.RMSE, NaiveMAE: naive.MAE, NaiveMAPE: naive.MAPE,
		N:         ms.N,
		FirstDate: test.TargetDate[0].Format("2006-01-02"),
		LastDate:  test.TargetDate[len(test.TargetDate)-1].Format("2006-01-02"),
	}}, nil
}
