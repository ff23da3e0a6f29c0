package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/finsight/finsight/internal/artifact"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
)

// PromoteInput is a freshly registered version and what it is judged on.
type PromoteInput struct {
	Ticker      string   `json:"ticker"`
	RunID       string   `json:"run_id"`
	Version     int      `json:"version"`
	Predictions blob.Ref `json:"predictions"` // the new model's test predictions
	Test        blob.Ref `json:"test"`        // the run's cleaned test bars
	Margin      float64  `json:"margin"`      // allowed RMSE excess over naive (0.05 = 5%)
	Force       bool     `json:"force"`
}

// Promote runs the promotion gate: the new version becomes challenger, and
// champion only if, on the same test days, its RMSE beats the current
// champion's (re-scored here on this run's test split, not taken from its
// own old test) and is not worse than the naive forecast by more than the
// margin. Force overrides the gate and is recorded.
func (a *Activities) Promote(ctx context.Context, in PromoteInput) (pipeline.Promotion, error) {
	reg := registry.Registry{Store: a.Store}
	m, err := reg.Manifest(ctx, in.Ticker)
	if err != nil {
		return pipeline.Promotion{}, storeErr(err, "read registry of %s", in.Ticker)
	}
	raw, err := a.readVerified(ctx, in.Predictions)
	if err != nil {
		return pipeline.Promotion{}, err
	}
	preds, err := frame.ReadPredictions(bytes.NewReader(raw), a.Mem)
	if err != nil {
		return pipeline.Promotion{}, invalid(ErrCorrupt, err, "decode predictions: %v", err)
	}
	champ, hasChamp := m.Alias(registry.Champion)
	var champPred map[time.Time]float64
	if hasChamp && champ.Version != in.Version {
		if champPred, err = a.championPredictions(ctx, reg, in.Ticker, champ.Version, in.Test); err != nil {
			return pipeline.Promotion{}, err
		}
	}
	out := judge(preds, champPred, in.Margin)
	if hasChamp && champ.Version != in.Version {
		out.PreviousVersion = champ.Version
	}
	switch {
	case in.Force:
		out.Alias, out.Promoted, out.Forced = registry.Champion, true, true
		out.Reason = "forced by the user (--force-promote); " + out.Reason
	case out.Promoted:
		out.Alias = registry.Champion
	default:
		out.Alias = registry.Challenger
	}
	if _, err := reg.SetAlias(ctx, in.Ticker, out.Alias, in.Version, out.Reason, out.Forced, in.RunID); err != nil {
		return pipeline.Promotion{}, fmt.Errorf("set %s of %s: %w", out.Alias, in.Ticker, err)
	}
	return out, nil
}

// judge compares the new model with naive and (when given) the champion
// on the test days both models forecast.
func judge(p *frame.Predictions, champ map[time.Time]float64, margin float64) pipeline.Promotion {
	var se, seNaive, seChamp float64
	n := 0
	for i, d := range p.Date {
		c, ok := champ[d]
		if champ != nil && !ok {
			continue
		}
		e, en := p.Predicted[i]-p.Actual[i], p.Naive[i]-p.Actual[i]
		se, seNaive = se+e*e, seNaive+en*en
		if champ != nil {
			ec := c - p.Actual[i]
			seChamp += ec * ec
		}
		n++
	}
	out := pipeline.Promotion{Days: n}
	if n == 0 {
		out.Reason = "no test day in common with the champion: cannot compare"
		return out
	}
	out.RMSE, out.NaiveRMSE = math.Sqrt(se/float64(n)), math.Sqrt(seNaive/float64(n))
	naiveOK := out.RMSE <= out.NaiveRMSE*(1+margin)
	naiveText := fmt.Sprintf("RMSE %.4f vs naive %.4f (margin %.1f%%)", out.RMSE, out.NaiveRMSE, 100*margin)
	if champ == nil {
		out.Promoted = naiveOK
		if naiveOK {
			out.Reason = "no champion yet; " + naiveText + ": not worse than naive"
		} else {
			out.Reason = "no champion, but " + naiveText + ": worse than the naive forecast"
		}
		return out
	}
	out.ChampionRMSE = math.Sqrt(seChamp / float64(n))
	champText := fmt.Sprintf("on the same %d test days RMSE %.4f vs champion %.4f", n, out.RMSE, out.ChampionRMSE)
	switch {
	case out.RMSE >= out.ChampionRMSE:
		out.Reason = champText + ": does not beat the champion"
	case !naiveOK:
		out.Reason = champText + ", but " + naiveText + ": worse than the naive forecast"
	default:
		out.Promoted = true
		out.Reason = champText + " and " + naiveText + ": better than both"
	}
	return out
}

// championPredictions re-scores the champion on this run's test bars with
// its own transform and lookback, by target date.
func (a *Activities) championPredictions(ctx context.Context, reg registry.Registry, ticker string, version int, testRef blob.Ref) (map[time.Time]float64, error) {
	champ, err := artifact.Load(ctx, reg, ticker, version, a.Device)
	if errors.Is(err, artifact.ErrCorrupt) {
		return nil, invalid(ErrCorrupt, err, "champion v%d: %v", version, err)
	}
	if err != nil {
		return nil, storeErr(err, "read champion v%d", version)
	}
	defer champ.Close()
	m, t, lookback := champ.LSTM, champ.Transform, champ.Config.Lookback
	test, err := a.readBars(ctx, testRef)
	if err != nil {
		return nil, err
	}
	w, err := prep.MakeWindows(test, t, lookback)
	if err != nil {
		return nil, invalid(ErrInvalidData, err, "champion v%d on this test split: %v", version, err)
	}
	scaled, err := m.Predict(w.X)
	if err != nil {
		return nil, fmt.Errorf("champion v%d predict: %w", version, err)
	}
	out := make(map[time.Time]float64, len(scaled))
	for i, v := range scaled {
		out[w.TargetDate[i]] = t.Price(w.Last[i], float64(v))
	}
	return out, nil
}
