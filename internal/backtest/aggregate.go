package backtest

import (
	"fmt"

	"github.com/finsight/finsight/internal/metrics"
)

// FoldForecasts are every model's forecasts on one fold's test block.
type FoldForecasts struct {
	Fold   int       `json:"fold"`
	Actual []float64 `json:"actual"`
	// Last is the value known when each target was forecast: the naive
	// forecast every model is compared with (as in metrics.Compare).
	Last   []float64       `json:"last"`
	Models []ModelForecast `json:"models"`
}

// ModelForecast is one model's forecasts, aligned with Actual.
type ModelForecast struct {
	Model string    `json:"model"`
	Pred  []float64 `json:"pred"`
}

// FoldScore is one model on one fold, beside naive.
type FoldScore struct {
	Fold int `json:"fold"`
	metrics.Comparison
}

// ModelSummary is one model across the folds it was scored on.
type ModelSummary struct {
	Model               string `json:"model"`
	Folds               int    `json:"folds"`
	RMSE                Spread `json:"rmse"`
	MAE                 Spread `json:"mae"`
	MASE                Spread `json:"mase"`
	DirectionalAccuracy Spread `json:"directional_accuracy"`
	// PooledDMStat and PooledDMPValue test the model against naive on the
	// squared errors of all its folds' targets together: one fold's block
	// is often too short for the test to say anything. < 0: model better.
	PooledDMStat   metrics.Maybe `json:"pooled_dm_stat"`
	PooledDMPValue metrics.Maybe `json:"pooled_dm_p_value"`
	PooledN        int           `json:"pooled_n"`
	// BeatNaive counts folds with MASE < 1: a lower mean absolute error
	// than naive on the same targets.
	BeatNaive int         `json:"beat_naive"`
	PerFold   []FoldScore `json:"per_fold"`
}

// Summarize scores every model on every fold with metrics.Compare and
// summarises each across folds, in the order models first appear. horizon
// (rows from origin to target) sets the Diebold–Mariano lags. A model
// missing from a fold is summarised over the folds it has.
func Summarize(folds []FoldForecasts, horizon int) ([]ModelSummary, error) {
	if len(folds) == 0 {
		return nil, fmt.Errorf("summarize folds: no folds")
	}
	if horizon < 1 {
		return nil, fmt.Errorf("summarize folds: horizon must be at least 1, got %d", horizon)
	}
	var order []string
	acc := map[string]*pooled{}
	for _, f := range folds {
		seen := map[string]bool{}
		for _, m := range f.Models {
			if seen[m.Model] {
				return nil, fmt.Errorf("summarize folds: fold %d has model %q twice", f.Fold, m.Model)
			}
			seen[m.Model] = true
			c, err := metrics.Compare(f.Actual, m.Pred, f.Last)
			if err != nil {
				return nil, fmt.Errorf("summarize folds: fold %d, model %q: %w", f.Fold, m.Model, err)
			}
			p, ok := acc[m.Model]
			if !ok {
				p = &pooled{}
				acc[m.Model] = p
				order = append(order, m.Model)
			}
			p.add(f, m.Pred, c)
		}
	}
	out := make([]ModelSummary, len(order))
	for i, name := range order {
		out[i] = acc[name].summary(name, horizon)
	}
	return out, nil
}

// pooled gathers one model's fold scores and errors.
type pooled struct {
	scores       []FoldScore
	model, naive []float64 // errors of all folds, in fold order
}

func (p *pooled) add(f FoldForecasts, pred []float64, c metrics.Comparison) {
	p.scores = append(p.scores, FoldScore{Fold: f.Fold, Comparison: c})
	for i, a := range f.Actual {
		p.model = append(p.model, pred[i]-a)
		p.naive = append(p.naive, f.Last[i]-a)
	}
}

func (p *pooled) summary(name string, horizon int) ModelSummary {
	n := len(p.scores)
	rmse, mae, mase, dir := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	beat := 0
	for i, s := range p.scores {
		rmse[i], mae[i] = s.Model.RMSE, s.Model.MAE
		mase[i], dir[i] = float64(s.MASE), float64(s.DirectionalAccuracy)
		if mase[i] < 1 { // false for NaN: no naive error, nothing to beat
			beat++
		}
	}
	stat, pv := metrics.DieboldMariano(p.model, p.naive, horizon)
	return ModelSummary{
		Model: name, Folds: n,
		RMSE: spreadOf(rmse), MAE: spreadOf(mae), MASE: spreadOf(mase), DirectionalAccuracy: spreadOf(dir),
		PooledDMStat: metrics.Maybe(stat), PooledDMPValue: metrics.Maybe(pv), PooledN: len(p.model),
		BeatNaive: beat, PerFold: p.scores,
	}
}
