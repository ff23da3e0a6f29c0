package hpo

import (
	"math"
	"math/rand"
	"sort"
)

// TPEOptions tune the Tree-structured Parzen Estimator.
type TPEOptions struct {
	Startup    int     // random trials before modelling (default 5)
	Gamma      float64 // share of observations counted as good (default 0.25)
	Candidates int     // draws from l(x) scored by l(x)/g(x) (default 24)
}

func (o TPEOptions) withDefaults() TPEOptions {
	if o.Startup <= 0 {
		o.Startup = 5
	}
	if o.Gamma <= 0 || o.Gamma >= 1 {
		o.Gamma = 0.25
	}
	if o.Candidates <= 0 {
		o.Candidates = 24
	}
	return o
}

type tpe struct {
	space Space
	seed  int64
	opts  TPEOptions
}

// NewTPE is univariate TPE (Bergstra et al. 2011, as in Optuna): once
// Startup trials have a finite value, the observations are split into the
// best ceil(γ·n) ("good") and the rest; per parameter a Parzen estimator
// of each group — Gaussians at the observed values (in log space for
// logfloat), bandwidth the larger distance to a sorted neighbour, clipped
// to [range/min(100, 1+n), range], plus one prior Gaussian over the whole
// range — is
// fitted; Candidates values drawn from the good estimator l are scored by
// l(x)/g(x) and the best one kept. Choices use categorical estimators with
// add-one smoothing. Pruned trials count with the value they reached:
// they are evidence of a bad region.
func NewTPE(space Space, seed int64, opts TPEOptions) Sampler {
	return tpe{space: space, seed: seed, opts: opts.withDefaults()}
}

func (t tpe) Sample(trial int, history []Observation) (Point, error) {
	rng := trialRand(t.seed, trial)
	var obs []Observation
	for _, o := range history {
		if !math.IsNaN(o.Value) && !math.IsInf(o.Value, 0) {
			obs = append(obs, o)
		}
	}
	if len(obs) < t.opts.Startup {
		return uniformPoint(t.space, rng), nil
	}
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].Value < obs[j].Value })
	nGood := int(math.Ceil(t.opts.Gamma * float64(len(obs))))
	good, bad := obs[:nGood], obs[nGood:]
	p := Point{}
	for _, prm := range t.space {
		if c, ok := asChoice(prm); ok {
			p[prm.Name] = t.sampleChoice(c, good, bad, rng)
		} else {
			p[prm.Name] = t.sampleNumeric(prm, good, bad, rng)
		}
	}
	return p, nil
}

func (t tpe) sampleNumeric(prm Param, good, bad []Observation, rng *rand.Rand) float64 {
	lo, hi := prm.bounds()
	l := newParzen(coords(prm, good), lo, hi)
	g := newParzen(coords(prm, bad), lo, hi)
	bestX, bestScore := 0.0, math.Inf(-1)
	for i := 0; i < t.opts.Candidates; i++ {
		x := l.sample(rng)
		if s := l.logPDF(x) - g.logPDF(x); s > bestScore {
			bestX, bestScore = x, s
		}
	}
	return prm.fromUnit(bestX)
}

func (t tpe) sampleChoice(prm Param, good, bad []Observation, rng *rand.Rand) float64 {
	weights := func(obs []Observation) []float64 {
		w := make([]float64, len(prm.Choices))
		for i := range w {
			w[i] = 1 // add-one smoothing
		}
		for _, o := range obs {
			w[int(prm.toUnit(o.Point[prm.Name]))]++
		}
		return w
	}
	l, g := weights(good), weights(bad)
	sum := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s
	}
	sl, sg := sum(l), sum(g)
	best, bestScore := 0, math.Inf(-1)
	for i := 0; i < t.opts.Candidates; i++ {
		c := drawIndex(l, sl, rng)
		if s := math.Log(l[c]/sl) - math.Log(g[c]/sg); s > bestScore {
			best, bestScore = c, s
		}
	}
	return prm.Choices[best]
}

// asChoice treats a choice, or an int with at most 10 values (layers), as
// categorical: a handful of levels is better modelled by counts than by
// Gaussians, which would lock onto the first good level.
func asChoice(prm Param) (Param, bool) {
	switch {
	case prm.Kind == KindChoice:
		return prm, true
	case prm.Kind == KindInt && prm.High-prm.Low < 10:
		c := Param{Name: prm.Name, Kind: KindChoice}
		for v := prm.Low; v <= prm.High; v++ {
			c.Choices = append(c.Choices, v)
		}
		return c, true
	}
	return prm, false
}

func coords(prm Param, obs []Observation) []float64 {
	out := make([]float64, len(obs))
	for i, o := range obs {
		out[i] = prm.toUnit(o.Point[prm.Name])
	}
	return out
}

func drawIndex(w []float64, total float64, rng *rand.Rand) int {
	x := rng.Float64() * total
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// parzen is an equally weighted mixture of Gaussians truncated to [lo, hi]
// (the prior component is centred mid-range with the whole range as sigma).
type parzen struct {
	mus, sigmas []float64
	lo, hi      float64
}

func newParzen(points []float64, lo, hi float64) parzen {
	width := hi - lo
	mus := append(append([]float64{}, points...), (lo+hi)/2)
	sort.Float64s(mus)
	sigmas := make([]float64, len(mus))
	for i, m := range mus {
		left, right := m-lo, hi-m
		if i > 0 {
			left = m - mus[i-1]
		}
		if i+1 < len(mus) {
			right = mus[i+1] - m
		}
		// Optuna's "magic clip": no bandwidth below width/min(100, 1+n),
		// so a few clustered good points do not collapse the search.
		floor := width / math.Min(100, float64(1+len(points)))
		sigmas[i] = math.Min(width, math.Max(floor, math.Max(left, right)))
	}
	// The prior keeps the whole range reachable.
	for i, m := range mus {
		if m == (lo+hi)/2 {
			sigmas[i] = width
			break
		}
	}
	return parzen{mus: mus, sigmas: sigmas, lo: lo, hi: hi}
}

func (p parzen) sample(rng *rand.Rand) float64 {
	k := rng.Intn(len(p.mus))
	for {
		x := p.mus[k] + p.sigmas[k]*rng.NormFloat64()
		if x >= p.lo && x <= p.hi {
			return x
		}
	}
}

func (p parzen) logPDF(x float64) float64 {
	sum := 0.0
	for i, m := range p.mus {
		s := p.sigmas[i]
		z := (x - m) / s
		mass := normCDF((p.hi-m)/s) - normCDF((p.lo-m)/s)
		sum += math.Exp(-0.5*z*z) / (s * math.Sqrt(2*math.Pi) * math.Max(mass, 1e-12))
	}
	return math.Log(sum / float64(len(p.mus)))
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
