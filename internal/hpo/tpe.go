package hpo

import (
	"fmt"
	"math"
	"math/rand"
)

// TPEOptions tune the Tree-structured Parzen Estimator; zero fields take
// the defaults.
type TPEOptions struct {
	Startup    int     `json:"startup,omitempty"`    // trials with a finite value before modelling (default 5)
	Gamma      float64 `json:"gamma,omitempty"`      // share of them counted as good, in (0, 1) (default 0.25)
	Candidates int     `json:"candidates,omitempty"` // draws from l(x) scored by l(x)/g(x) (default 24)
}

func (o TPEOptions) withDefaults() TPEOptions {
	if o.Startup <= 0 {
		o.Startup = 5
	}
	if !(o.Gamma > 0 && o.Gamma < 1) {
		o.Gamma = 0.25
	}
	if o.Candidates <= 0 {
		o.Candidates = 24
	}
	return o
}

// NewTPE is univariate TPE (Bergstra et al. 2011, as Optuna's
// TPESampler with multivariate=false):
//
//   - While fewer than Startup observations have a finite value it samples
//     exactly as NewRandom with the same seed would.
//   - Then it ranks the history (see ranked: finished trials by value, then
//     pruned ones, deepest first, then diverged ones) and takes the best
//     ceil(Gamma·n) as good and the rest as bad, n being the number of
//     finite values (so diverged trials are never good).
//   - Per parameter, independently and in space order, it fits a Parzen
//     estimator to the good values, l, and one to the bad, g (parzen.go;
//     log space for logfloat, ints discrete, choices categorical), draws
//     Candidates values from l and keeps the one with the largest
//     log l(x) − log g(x) (the first on a tie).
//
// A history point that lacks a parameter, or has a value that parameter
// cannot take (a choice not in the list, NaN, ≤ 0 on a log scale), does not
// inform that parameter's estimators; values outside the range are
// clipped to it.
func NewTPE(space Space, seed int64, opts TPEOptions) Sampler {
	return tpe{space: space, seed: seed, opts: opts.withDefaults()}
}

type tpe struct {
	space Space
	seed  int64
	opts  TPEOptions
}

func (t tpe) Sample(trial int, history []Observation) (Point, error) {
	if err := checkTrial(t.space, trial); err != nil {
		return nil, fmt.Errorf("tpe sampler: %w", err)
	}
	rng := trialRand(t.seed, trial)
	obs, nFinite := ranked(history)
	if nFinite < t.opts.Startup {
		return uniformPoint(t.space, rng), nil
	}
	nGood := int(math.Ceil(t.opts.Gamma * float64(nFinite)))
	good, bad := obs[:nGood], obs[nGood:]
	p := make(Point, len(t.space))
	for _, prm := range t.space {
		if prm.Kind == KindChoice {
			p[prm.Name] = t.sampleChoice(prm, good, bad, rng)
		} else {
			p[prm.Name] = t.sampleNumeric(prm, good, bad, rng)
		}
	}
	return p, nil
}

func (t tpe) sampleNumeric(prm Param, good, bad []Observation, rng *rand.Rand) float64 {
	lo, hi := prm.bounds()
	discrete := prm.Kind == KindInt
	l := newParzen(coords(prm, good), lo, hi, discrete)
	g := newParzen(coords(prm, bad), lo, hi, discrete)
	best, bestScore := 0.0, math.Inf(-1)
	for i := 0; i < t.opts.Candidates; i++ {
		x := l.sample(rng)
		if s := l.logDensity(x) - g.logDensity(x); s > bestScore {
			best, bestScore = x, s
		}
	}
	return prm.value(best)
}

func (t tpe) sampleChoice(prm Param, good, bad []Observation, rng *rand.Rand) float64 {
	k := len(prm.Choices)
	l, g := newCategorical(indices(prm, good), k), newCategorical(indices(prm, bad), k)
	best, bestScore := 0, math.Inf(-1)
	for i := 0; i < t.opts.Candidates; i++ {
		c := l.sample(rng)
		if s := math.Log(l[c]) - math.Log(g[c]); s > bestScore {
			best, bestScore = c, s
		}
	}
	return prm.Choices[best]
}

// coords are the usable internal coordinates of prm in obs.
func coords(prm Param, obs []Observation) []float64 {
	var out []float64
	for _, o := range obs {
		if v, ok := o.Point[prm.Name]; ok {
			if c, ok := prm.coord(v); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

// indices are the usable choice indices of prm in obs.
func indices(prm Param, obs []Observation) []int {
	var out []int
	for _, o := range obs {
		if v, ok := o.Point[prm.Name]; ok {
			if i := prm.choiceIndex(v); i >= 0 {
				out = append(out, i)
			}
		}
	}
	return out
}
