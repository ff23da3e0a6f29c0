package prep

import (
	"math"
	"math/rand"
	"sort"
	"testing"
)

func TestQuantileSelectEqualsSortedQuantile(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.Intn(300)
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(rng.Intn(50)) + rng.Float64() // duplicates likely
		}
		sorted := append([]float64(nil), v...)
		sort.Float64s(sorted)
		for _, q := range []float64{0, 0.25, 0.5, 0.75, 0.9, 1} {
			work := append([]float64(nil), v...)
			if got, want := quantileSelect(work, q), quantileSorted(sorted, q); got != want {
				t.Fatalf("n=%d q=%v: select %v, sorted %v", n, q, got, want)
			}
		}
	}
}

// quantileSorted is the reference: the q-quantile of sorted values,
// interpolated between order statistics.
func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}
