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
// own old test) and it passes the comparison with naive: by the split gate,
// its test RMSE is not worse than naive's by more than the margin; by the
// backtest gate, the pooled Diebold–Mariano test across the backtest's
// folds says it is better at level alpha. Force overrides the gate and is
// recorded.
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
			out := judge(preds, nil, in)
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
		a.CrashAt.reach(CrashPromoteAfterMove)
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
	out := judge(preds, champPred, in)
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
	out := judge(preds, champPred, in)
	out.Alias, out.Promoted, out.Forced = move.Alias, move.Alias == registry.Champion, move.Forced
	out.Reason, out.PreviousVersion = move.Reason, compared
	return out, nil
}

// judge compares the new model with naive (by in's gate) and, when given,
// the champion on the test days both models forecast.
func judge(p *frame.Predictions, champ map[time.Time]float64, in steps.PromoteInput) pipeline.Promotion {
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
	naive := checkNaive(&out, in)
	if champ == nil {
		out.Promoted = naive.ok
		if naive.ok {
			out.Reason = "no champion yet; " + naive.text + ": " + naive.verdict
		} else {
			out.Reason = "no champion, but " + naive.text + ": " + naive.verdict
		}
		return out
	}
	out.ChampionRMSE = math.Sqrt(seChamp / float64(n))
	champText := fmt.Sprintf("on the same %d test days RMSE %.4f vs champion %.4f", n, out.RMSE, out.ChampionRMSE)
	switch {
	case out.RMSE >= out.ChampionRMSE:
		out.Reason = champText + ": does not beat the champion"
		if out.Gate == pipeline.GateBacktest {
			// The evidence was paid for with K trainings: say what it was.
			out.Reason += "; " + naive.text + ": " + naive.verdict
		}
	case !naive.ok:
		out.Reason = champText + ", but " + naive.text + ": " + naive.verdict
	default:
		out.Promoted = true
		out.Reason = champText + " and " + naive.text + ": better than both"
	}
	return out
}

// naiveCheck is the comparison with naive: whether it passed, the
// evidence and what it means.
type naiveCheck struct {
	ok            bool
	text, verdict string
}

// checkNaive compares the model with naive by in's gate and records the
// gate (and the backtest's evidence) in out.
func checkNaive(out *pipeline.Promotion, in steps.PromoteInput) naiveCheck {
	if in.Gate != pipeline.GateBacktest {
		out.Gate = pipeline.GateSplit
		c := naiveCheck{ok: out.RMSE <= out.NaiveRMSE*(1+in.Margin),
			text: fmt.Sprintf("RMSE %.4f vs naive %.4f (margin %.1f%%)", out.RMSE, out.NaiveRMSE, 100*in.Margin)}
		c.verdict = "not worse than naive"
		if !c.ok {
			c.verdict = "worse than the naive forecast"
		}
		return c
	}
	out.Gate, out.Alpha = pipeline.GateBacktest, pipeline.GateAlpha(in.Alpha)
	ev := in.Backtest
	if ev == nil || ev.PooledN == 0 {
		return naiveCheck{text: "backtest gate", verdict: "no backtest forecasts to judge the model on: not promoted"}
	}
	out.Folds, out.DMStat, out.DMPValue = ev.Folds, ev.DMStat, ev.DMPValue
	return backtestCheck(*ev, out.Alpha)
}

// backtestCheck is the backtest gate: the model is better than naive only
// when its pooled squared errors are smaller (DM < 0) and significantly so
// (p < alpha). An undefined statistic (no variance in the loss
// differences, too few days) is no evidence, so it does not pass.
func backtestCheck(ev steps.BacktestEvidence, alpha float64) naiveCheck {
	stat, p := float64(ev.DMStat), float64(ev.DMPValue)
	text := fmt.Sprintf("backtest over %d folds (%d days): pooled DM %s, p = %s", ev.Folds, ev.PooledN, fmtStat(stat, "%.2f"), fmtStat(p, "%.2g"))
	switch {
	case math.IsNaN(stat) || math.IsNaN(p):
		return naiveCheck{text: text, verdict: "no evidence the model beats naive: not promoted"}
	case p >= alpha:
		return naiveCheck{text: text + fmt.Sprintf(" ≥ α %g", alpha), verdict: "not significantly better than naive: not promoted"}
	case stat >= 0:
		return naiveCheck{text: text + fmt.Sprintf(" < α %g", alpha), verdict: "significantly worse than naive: not promoted"}
	}
	return naiveCheck{ok: true, text: text + fmt.Sprintf(" < α %g", alpha), verdict: "significantly better than naive"}
}

// fmtStat writes a statistic in format, or "undefined" for NaN and ±Inf.
// p-values go in two significant digits: a tiny p stays readable
// (1.2e-05, not 0.000).
func fmtStat(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "undefined"
	}
	return fmt.Sprintf(format, v)
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
