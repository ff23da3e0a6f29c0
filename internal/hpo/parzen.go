package hpo

import (
	"math"
	"math/rand"
	"sort"
)

// parzen is the Parzen estimator of one numeric parameter in its internal
// coordinate (see coords.go), as in Optuna's univariate TPE: an equally
// weighted mixture of Gaussians truncated to [lo, hi], one centred at each
// observed value plus a prior centred mid-range with the whole range as
// sigma, which keeps every value reachable and the density bounded away
// from zero.
//
// Bandwidth of an observation: the larger of the distances to its sorted
// neighbours (the range ends count as neighbours of the outermost points,
// except that with two or more points an outermost point takes the
// distance to its inner neighbour, Optuna's consider_endpoints=false),
// clipped to [width/min(100, kernels+1), width] — Optuna's "magic clip",
// so that a few clustered points neither collapse the search to a spike
// nor spread past the range.
//
// With discrete set (ints), a value is a whole number and its density is
// the mixture's mass over [x-0.5, x+0.5], as Optuna does for stepped
// distributions.
type parzen struct {
	mus, sigmas []float64
	lo, hi      float64
	discrete    bool
}

func newParzen(points []float64, lo, hi float64, discrete bool) parzen {
	width := hi - lo
	mus := append([]float64(nil), points...)
	sort.Float64s(mus)
	n := len(mus)
	sigmas := make([]float64, n)
	floor := width / math.Min(100, float64(n+2)) // n observations + the prior, plus one
	for i, m := range mus {
		left, right := m-lo, hi-m
		if i > 0 {
			left = m - mus[i-1]
		}
		if i+1 < n {
			right = mus[i+1] - m
		}
		switch {
		case n >= 2 && i == 0:
			left = right
		case n >= 2 && i == n-1:
			right = left
		}
		sigmas[i] = math.Min(width, math.Max(floor, math.Max(left, right)))
	}
	mus = append(mus, (lo+hi)/2)
	sigmas = append(sigmas, width)
	return parzen{mus: mus, sigmas: sigmas, lo: lo, hi: hi, discrete: discrete}
}

// sample draws from the mixture by inverse CDF: a bounded number of random
// draws (two), whatever the parameters.
func (p parzen) sample(rng *rand.Rand) float64 {
	k := rng.Intn(len(p.mus))
	m, s := p.mus[k], p.sigmas[k]
	a, b := normCDF((p.lo-m)/s), normCDF((p.hi-m)/s)
	x := m + s*normQuantile(a+rng.Float64()*(b-a))
	if p.discrete {
		x = math.Round(x)
		return math.Min(p.hi-0.5, math.Max(p.lo+0.5, x))
	}
	return math.Min(p.hi, math.Max(p.lo, x))
}

// logDensity is the log of the mixture's density at x (or, when discrete,
// its mass over x's cell), each kernel renormalised to [lo, hi].
func (p parzen) logDensity(x float64) float64 {
	sum := 0.0
	for i, m := range p.mus {
		s := p.sigmas[i]
		total := normMass((p.lo-m)/s, (p.hi-m)/s)
		if p.discrete {
			sum += normMass((x-0.5-m)/s, (x+0.5-m)/s) / total
			continue
		}
		z := (x - m) / s
		sum += math.Exp(-0.5*z*z) / (s * math.Sqrt(2*math.Pi) * total)
	}
	return math.Log(sum / float64(len(p.mus)))
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// normQuantile is the standard normal's inverse CDF.
func normQuantile(q float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*q) }

// normMass is P(a ≤ Z ≤ b) for a standard normal Z, computed on the side
// of zero where it does not cancel.
func normMass(a, b float64) float64 {
	if a > 0 {
		return normCDF(-a) - normCDF(-b)
	}
	return normCDF(b) - normCDF(a)
}

// categorical is the Parzen estimator of a choice: Optuna's categorical
// kernels, each observation putting weight 1 on its own choice plus a
// prior weight of 1 spread evenly, and one more all-prior kernel; i.e. the
// probability of choice c is ((count(c) + n/k)/2 + 1/k) / (n+1) for n
// observations and k choices.
type categorical []float64

func newCategorical(idx []int, k int) categorical {
	n := float64(len(idx))
	counts := make([]float64, k)
	for _, i := range idx {
		counts[i]++
	}
	c := make(categorical, k)
	for i := range c {
		c[i] = ((counts[i]+n/float64(k))/2 + 1/float64(k)) / (n + 1)
	}
	return c
}

func (c categorical) sample(rng *rand.Rand) int {
	x := rng.Float64()
	for i, w := range c {
		if x < w {
			return i
		}
		x -= w
	}
	return len(c) - 1
}
