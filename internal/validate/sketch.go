package validate

import (
	"math"
	"sort"
)

// A sketch is a column's evenly spaced quantiles k[0..m] (ColumnStats.
// Quantiles): the training returns' CDF, piecewise linear between knots,
// with jumps where knots tie.

// sketchCDF returns P(X ≤ x) under the sketch k.
func sketchCDF(k []float64, x float64) float64 {
	return cdfFromUpperBound(k, sort.Search(len(k), func(i int) bool { return k[i] > x }), x)
}

// sketchCDFBelow returns P(X < x) under the sketch k.
func sketchCDFBelow(k []float64, x float64) float64 {
	return cdfFromLowerBound(k, sort.SearchFloat64s(k, x), x)
}

// cdfFromUpperBound returns P(X ≤ x) given u, the first knot index with
// k[u] > x.
func cdfFromUpperBound(k []float64, u int, x float64) float64 {
	switch u {
	case 0:
		return 0
	case len(k):
		return 1
	}
	j := u - 1 // k[j] ≤ x < k[j+1]
	return (float64(j) + (x-k[j])/(k[j+1]-k[j])) / float64(len(k)-1)
}

// cdfFromLowerBound returns P(X < x) given l, the first knot index with
// k[l] ≥ x.
func cdfFromLowerBound(k []float64, l int, x float64) float64 {
	switch l {
	case 0:
		return 0
	case len(k):
		return 1
	}
	j := l - 1 // k[j] < x ≤ k[j+1]
	return (float64(j) + (x-k[j])/(k[j+1]-k[j])) / float64(len(k)-1)
}

// ksAgainstSketch is the KS distance between a sorted sample and the
// sketch k. The empirical CDF is flat between sample values and the
// sketch's is non-decreasing, so the supremum is reached at a sample value
// (from the left or at it). Sample and knots are walked together, in
// linear time.
func ksAgainstSketch(sorted, k []float64) float64 {
	n := float64(len(sorted))
	d := 0.0
	lower, upper := 0, 0 // first knots ≥ v and > v
	for i := 0; i < len(sorted); {
		v := sorted[i]
		j := i
		for j < len(sorted) && sorted[j] == v {
			j++
		}
		for lower < len(k) && k[lower] < v {
			lower++
		}
		for upper < len(k) && k[upper] <= v {
			upper++
		}
		below := math.Abs(float64(i)/n - cdfFromLowerBound(k, lower, v))
		at := math.Abs(float64(j)/n - cdfFromUpperBound(k, upper, v))
		d = max(d, below, at)
		i = j
	}
	return d
}

// jsAgainstSketch is the JS divergence between a sorted sample and the
// sketch k over bins of equal training mass: the inner edges are the
// sketch's j/bins quantiles (ties merged), the outer bins are open, and
// bins are right-closed so that tied values fall alike on both sides.
func jsAgainstSketch(sorted, k []float64, bins int) float64 {
	train := make([]float64, 0, bins)
	split := make([]float64, 0, bins)
	prevF, prevN := 0.0, 0
	lastEdge := math.Inf(-1)
	for j := 1; j < bins; j++ {
		e := quantileSorted(k, float64(j)/float64(bins))
		if e == lastEdge {
			continue
		}
		lastEdge = e
		f := sketchCDF(k, e)
		n := sort.Search(len(sorted), func(i int) bool { return sorted[i] > e })
		train = append(train, f-prevF)
		split = append(split, float64(n-prevN))
		prevF, prevN = f, n
	}
	train = append(train, 1-prevF)
	split = append(split, float64(len(sorted)-prevN))
	return JSDivergence(train, split)
}
