package validate

import "math"

// JSDivergence returns the Jensen–Shannon divergence, base 2, of two
// histograms over the same bins (counts or probabilities; each is
// normalised to sum to 1). It is 0 for proportional histograms and 1 for
// disjoint ones. It returns NaN for histograms of different lengths, with a
// negative or NaN entry, or with nothing in them.
func JSDivergence(p, q []float64) float64 {
	if len(p) != len(q) || len(p) == 0 {
		return math.NaN()
	}
	sp, sq := histogramTotal(p), histogramTotal(q)
	if !(sp > 0) || !(sq > 0) {
		return math.NaN()
	}
	js := 0.0
	for i := range p {
		a, b := p[i]/sp, q[i]/sq
		m := (a + b) / 2
		if a > 0 {
			js += a * math.Log2(a/m)
		}
		if b > 0 {
			js += b * math.Log2(b/m)
		}
	}
	return min(max(js/2, 0), 1)
}

// histogramTotal sums a histogram; NaN when an entry is negative or NaN.
func histogramTotal(h []float64) float64 {
	s := 0.0
	for _, v := range h {
		if !(v >= 0) {
			return math.NaN()
		}
		s += v
	}
	return s
}

// KSTest runs the two-sample Kolmogorov–Smirnov test: d is the largest
// distance between the empirical CDFs of a and b (ties handled), p its
// asymptotic p-value, Q_KS(d·√(nm/(n+m))). NaN values are ignored; with an
// empty sample both results are NaN. The inputs are not modified.
func KSTest(a, b []float64) (d, p float64) {
	sa := sortedInPlace(appendNonNaN(make([]float64, 0, len(a)), a))
	sb := sortedInPlace(appendNonNaN(make([]float64, 0, len(b)), b))
	if len(sa) == 0 || len(sb) == 0 {
		return math.NaN(), math.NaN()
	}
	d = ksStatisticSorted(sa, sb)
	return d, ksPValue(d, len(sa), len(sb))
}

// ksStatisticSorted is the KS distance between two sorted samples.
func ksStatisticSorted(a, b []float64) float64 {
	n, m := float64(len(a)), float64(len(b))
	d := 0.0
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		v := min(a[i], b[j])
		for i < len(a) && a[i] == v {
			i++
		}
		for j < len(b) && b[j] == v {
			j++
		}
		d = max(d, math.Abs(float64(i)/n-float64(j)/m))
	}
	return d
}

// ksPValue is the asymptotic p-value of a two-sample KS distance d between
// samples of n and m values.
func ksPValue(d float64, n, m int) float64 {
	en := math.Sqrt(float64(n) * float64(m) / float64(n+m))
	return kolmogorovQ(en * d)
}

// kolmogorovQ is the survival function of the Kolmogorov distribution,
// Q(z) = 2 Σ_{j≥1} (−1)^{j−1} exp(−2j²z²), evaluated through its
// fast-converging form on either side of z = 1.18 (Numerical Recipes).
func kolmogorovQ(z float64) float64 {
	switch {
	case !(z > 0):
		return 1
	case z < 1.18:
		y := math.Exp(-math.Pi * math.Pi / (8 * z * z))
		cdf := math.Sqrt(2*math.Pi) / z * (y + math.Pow(y, 9) + math.Pow(y, 25) + math.Pow(y, 49))
		return min(max(1-cdf, 0), 1)
	}
	x := math.Exp(-2 * z * z)
	return min(max(2*(x-math.Pow(x, 4)+math.Pow(x, 9)), 0), 1)
}

// appendNonNaN appends the values that are not NaN.
func appendNonNaN(dst, v []float64) []float64 {
	for _, x := range v {
		if !math.IsNaN(x) {
			dst = append(dst, x)
		}
	}
	return dst
}
