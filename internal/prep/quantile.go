package prep

import "math"

// quantileSelect returns the q-quantile of v (linear interpolation between
// order statistics) by selection in O(n), reordering v.
func quantileSelect(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(v)-1)
	i := int(pos)
	lo := selectKth(v, i)
	if i+1 >= len(v) || pos == float64(i) {
		return lo
	}
	// The (i+1)-th order statistic is the minimum of the part above i.
	hi := math.Inf(1)
	for _, x := range v[i+1:] {
		hi = math.Min(hi, x)
	}
	return lo + (pos-float64(i))*(hi-lo)
}

// selectKth reorders v so that v[k] is its k-th smallest value (v[:k] ≤
// v[k] ≤ v[k+1:]) and returns it: Hoare's quickselect with a
// median-of-three pivot.
func selectKth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
