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
	"github.com/finsight/finsight/internal/steps"
)

// promoteRounds bounds how many times Promote compares again after the
// champion changed between its comparison and its alias move.
const promoteRounds = 10

// Promote runs the promotion gate: the new version becomes challenger, and
// champion only if, on the same test days, its RMSE beats the current
// champion's (re-scored here on this run's test split, not taken from its
// own old test) and is not worse than the naive forecast by more than the
// margin. Force overrides the gate and is recorded.
//
// Promotions of one ticker may run concurrently: the alias move is
// conditional on the champion still being the one compared against
// (registry.SetAliasIf); when another run moved it in between, Promote
// compares with the new champion and tries again. A retry of a Promote
// whose move already happened returns the decision it recorded instead of
// judging again (and never compares the version with itself).
func (a *Activities) Promote(ctx context.Context, in steps.PromoteInput) (pipeline.Promotion, error) {
	reg := registry.Registry{Store: a.Store}
	raw, err := a.readVerified(ctx, in.Predictions)
	if err != nil {
		return pipeline.Promotion{}, err
	}
	preds, err := frame.ReadPredictions(bytes.NewReader(raw), a.Mem)
	if err != nil {
		return pipeline.Promotion{}, invalid(steps.ErrCorrupt, err, "decode predictions: %v", err)
	}
	for range promoteRounds {
		m, err := reg.Manifest(ctx, in.Ticker)
		if err != nil {
			return pipeline.Promotion{}, storeErr(err, "read registry of %s", in.Ticker)
		}
		if move, ok := promotedBy(m, in); ok {
			return a.recordedPromotion(ctx, reg, in, preds, move)
		}
		expect := m.Aliases[registry.Champion]
		if expect == in.Version {
			// Made champion by someone else (a forced move, a rollback):
			// there is nothing to compare it with, nor to move.
			out := judge(preds, nil, in.Margin)
			out.Alias, out.Promoted = registry.Champion, true
			out.Reason = fmt.Sprintf("v%d is already the champion", in.Version)
			return out, nil
		}
		compared := 0
		if champ, ok := m.Alias(registry.Champion); ok {
			compared = champ.Version
		}
		out, err := a.decide(ctx, reg, in, preds, compared)
		if err != nil {
			return pipeline.Promotion{}, err
		}
		_, err = reg.SetAliasIf(ctx, in.Ticker, out.Alias, in.Version, expect, out.Reason, out.Forced, in.RunID)
		if errors.Is(err, registry.ErrChampionChanged) {
			continue // compare with the new champion
		}
		if err != nil {
			return pipeline.Promotion{}, fmt.Errorf("set %s of %s: %w", out.Alias, in.Ticker, err)
		}
		return out, nil
	}
	// Retryable: the next attempt compares again.
	return pipeline.Promotion{}, fmt.Errorf("promote %s v%d: the champion kept changing over %d comparisons", in.Ticker, in.Version, promoteRounds)
}

// decide judges the new model against champion version champ (0 = none)
// and picks the alias it gets.
func (a *Activities) decide(ctx context.Context, reg registry.Registry, in steps.PromoteInput, preds *frame.Predictions, champ int) (pipeline.Promotion, error) {
	var champPred map[time.Time]float64
	if champ != 0 {
		var err error
		if champPred, err = a.championPredictions(ctx, reg, in.Ticker, champ, in.Test); err != nil {
			return pipeline.Promotion{}, err
		}
	}
	out := judge(preds, champPred, in.Margin)
	out.PreviousVersion = champ
	switch {
	case in.Force:
		out.Alias, out.Promoted, out.Forced = registry.Champion, true, true
		out.Reason = "forced by the user (--force-promote); " + out.Reason
	case out.Promoted:
		out.Alias = registry.Champion
	default:
		out.Alias = registry.Challenger
	}
	return out, nil
}

// promotedBy finds the alias move this run made for its version, if an
// earlier attempt of this Promote got that far.
func promotedBy(m registry.Manifest, in steps.PromoteInput) (registry.AliasMove, bool) {
	if in.RunID == "" {
		return registry.AliasMove{}, false
	}
	for i := len(m.History) - 1; i >= 0; i-- {
		h := m.History[i]
		if h.RunID == in.RunID && h.Version == in.Version && !h.Rollback &&
			(h.Alias == registry.Champion || h.Alias == registry.Challenger) {
			return h, true
		}
	}
	return registry.AliasMove{}, false
}

// recordedPromotion rebuilds the decision an earlier attempt recorded in
// move: its alias, reason and the champion it was compared with, with the
// scores re-computed against that champion (the same model on the same
// test days scores the same).
func (a *Activities) recordedPromotion(ctx context.Context, reg registry.Registry, in steps.PromoteInput, preds *frame.Predictions, move registry.AliasMove) (pipeline.Promotion, error) {
	compared := move.Compared
	if compared == 0 && move.Alias == registry.Champion {
		compared = move.Previous // a move recorded before Compared was
	}
	var champPred map[time.Time]float64
	if compared != 0 && compared != in.Version {
		var err error
		if champPred, err = a.championPredictions(ctx, reg, in.Ticker, compared, in.Test); err != nil {
			return pipeline.Promotion{}, err
		}
	} else {
		compared = 0
	}
	out := judge(preds, champPred, in.Margin)
	out.Alias, out.Promoted, out.Forced = move.Alias, move.Alias == registry.Champion, move.Forced
	out.Reason, out.PreviousVersion = move.Reason, compared
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
		return nil, invalid(steps.ErrCorrupt, err, "champion v%d: %v", version, err)
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
		return nil, invalid(steps.ErrInvalidData, err, "champion v%d on this test split: %v", version, err)
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
