package validate

import "sort"

// A sketch is a column's evenly spaced quantiles k[0..m] (ColumnStats.
// Quantiles): the training returns' CDF, piecewise linear between knots,
// with jumps where knots tie.

// sketchCDF returns P(X ≤ x) under the sketch k.
func sketchCDF(k []float64, x float64) float64 {
	m := len(k) - 1
	switch {
	case x < k[0]:
		return 0
	case x >= k[m]:
		return 1
	}
	j := sort.Search(len(k), func(i int) bool { return k[i] > x }) - 1 // k[j] ≤ x < k[j+1]
	return (float64(j) + (x-k[j])/(k[j+1]-k[j])) / float64(m)
}

// sketchCDFBelow returns P(X < x) under the sketch k.
func sketchCDFBelow(k []float64, x float64) float64 {
	m := len(k) - 1
	switch {
	case x <= k[0]:
		return 0
	case x > k[m]:
		return 1
	}
	j := sort.SearchFloat64s(k, x) // k[j-1] < x ≤ k[j]
	return (float64(j-1) + (x-k[j-1])/(k[j]-k[j-1])) / float64(m)
}

// sketchQuantile returns the q-quantile of the sketch k.
func sketchQuantile(k []float64, q float64) float64 {
	return quantileSorted(k, q)
}

// ksAgainstSketch is the KS distance between a sorted sample and the
// sketch k. The empirical CDF is flat between sample values and the
// sketch's is non-decreasing, so the supremum is reached at a sample value
// (from the left or at it).
func ksAgainstSketch(sorted, k []float64) float64 {
	n := float64(len(sorted))
	d := 0.0
	for i := 0; i < len(sorted); {
		v := sorted[i]
		j := i
		for j < len(sorted) && sorted[j] == v {
			j++
		}
		d = max(d, abs(float64(i)/n-sketchCDFBelow(k, v)), abs(float64(j)/n-sketchCDF(k, v)))
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
	lastEdge := k[0] - 1
	for j := 1; j < bins; j++ {
		e := sketchQuantile(k, float64(j)/float64(bins))
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

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
