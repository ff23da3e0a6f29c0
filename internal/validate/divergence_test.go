package validate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestJSDivergenceKnownValues(t *testing.T) {
	cases := []struct {
		name string
		p, q []float64
		want float64
	}{
		{"identical", []float64{0.2, 0.3, 0.5}, []float64{0.2, 0.3, 0.5}, 0},
		{"proportional counts", []float64{2, 3, 5}, []float64{20, 30, 50}, 0},
		{"disjoint", []float64{1, 0}, []float64{0, 1}, 1},
		{"disjoint counts", []float64{0, 4, 0, 1}, []float64{3, 0, 7, 0}, 1},
		// m = (0.75, 0.25): ½[½·log2(⅔) + ½·log2(2)] + ½[log2(4/3)]
		// = 1.5 − 0.75·log2(3) ≈ 0.311278.
		{"half vs all", []float64{0.5, 0.5}, []float64{1, 0}, 1.5 - 0.75*math.Log2(3)},
		// m = (0.5, 0.5): ½[0.9·log2(1.8) + 0.1·log2(0.2)]·2 = 0.9·log2(1.8) + 0.1·log2(0.2)
		// ≈ 0.9·0.847997 − 0.1·2.321928 ≈ 0.531004.
		{"0.9/0.1 vs mirror", []float64{0.9, 0.1}, []float64{0.1, 0.9}, 0.9*math.Log2(1.8) + 0.1*math.Log2(0.2)},
	}
	for _, tc := range cases {
		if got := JSDivergence(tc.p, tc.q); !near(got, tc.want, 1e-12) {
			t.Errorf("%s: JS = %.9f, want %.9f", tc.name, got, tc.want)
		}
		if got, back := JSDivergence(tc.p, tc.q), JSDivergence(tc.q, tc.p); !near(got, back, 1e-12) {
			t.Errorf("%s: not symmetric: %v vs %v", tc.name, got, back)
		}
	}
	if !near(JSDivergence([]float64{0.5, 0.5}, []float64{1, 0}), 0.311278, 1e-6) {
		t.Error("half vs all: want ≈ 0.311278")
	}
}

func TestJSDivergenceInvalidInputIsNaN(t *testing.T) {
	for name, pq := range map[string][2][]float64{
		"lengths differ": {{1, 2}, {1, 2, 3}},
		"empty":          {{}, {}},
		"all zero":       {{0, 0}, {1, 1}},
		"negative":       {{-1, 2}, {1, 1}},
		"NaN":            {{math.NaN(), 1}, {1, 1}},
	} {
		if got := JSDivergence(pq[0], pq[1]); !math.IsNaN(got) {
			t.Errorf("%s: want NaN, got %v", name, got)
		}
	}
}

func TestKSTestKnownValues(t *testing.T) {
	cases := []struct {
		name  string
		a, b  []float64
		d, p  float64
		tolP  float64
		untie bool
	}{
		// Disjoint: D = 1; λ = √(4·4/8) = √2; Q = 2(e^−4 − e^−16 + …) ≈ 0.036631.
		{"disjoint", []float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, 1, 2 * (math.Exp(-4) - math.Exp(-16)), 1e-9, false},
		// Pooled 1a 2a 2.5b 3a 3.5b 4a 4.5b 5.5b: F_a − F_b peaks at 0.5 (after 2, 3
		// and 4); λ = √2·0.5; Q = 2(e^−1 − e^−4 + e^−9 − e^−16) ≈ 0.699374.
		{"interleaved", []float64{4, 1, 3, 2}, []float64{2.5, 3.5, 4.5, 5.5}, 0.5,
			2 * (math.Exp(-1) - math.Exp(-4) + math.Exp(-9) - math.Exp(-16)), 1e-6, false},
		// Ties across samples: at 1 F_a = ¼, F_b = 0; at 2 F_a = ¾, F_b = ½; at 3
		// both 1. D = ¼ (not ¾, which counting a's 2s before b's would give).
		{"ties", []float64{1, 2, 2, 3}, []float64{2, 2, 3, 3}, 0.25, kolmogorovQ(math.Sqrt2 * 0.25), 1e-12, false},
		{"identical", []float64{3, 1, 2}, []float64{1, 2, 3}, 0, 1, 0, false},
	}
	for _, tc := range cases {
		d, p := KSTest(tc.a, tc.b)
		if !near(d, tc.d, 1e-12) || !near(p, tc.p, tc.tolP) {
			t.Errorf("%s: D = %v p = %v, want D = %v p = %v", tc.name, d, p, tc.d, tc.p)
		}
		if d2, p2 := KSTest(tc.b, tc.a); d2 != d || p2 != p {
			t.Errorf("%s: not symmetric", tc.name)
		}
	}
	a := []float64{3, 1, 2}
	KSTest(a, []float64{0})
	if !slices.Equal(a, []float64{3, 1, 2}) {
		t.Error("KSTest modified its input")
	}
	if d, p := KSTest(nil, []float64{1}); !math.IsNaN(d) || !math.IsNaN(p) {
		t.Errorf("empty sample: want NaN, got %v %v", d, p)
	}
}

// kolmogorovQSeries sums Q(z) = 2 Σ (−1)^{j−1} exp(−2j²z²) directly.
func kolmogorovQSeries(z float64) float64 {
	s := 0.0
	for j := 1; j <= 2000; j++ {
		s += math.Pow(-1, float64(j-1)) * math.Exp(-2*float64(j*j)*z*z)
	}
	return 2 * s
}

func TestKolmogorovQMatchesItsSeriesOnBothBranches(t *testing.T) {
	for _, z := range []float64{0.3, 0.5, 0.8, 1.0, 1.17, 1.19, 1.5, 2, 3} {
		if got, want := kolmogorovQ(z), kolmogorovQSeries(z); !near(got, want, 1e-9) {
			t.Errorf("Q(%v) = %.12f, series %.12f", z, got, want)
		}
	}
	if kolmogorovQ(0) != 1 {
		t.Error("Q(0) must be 1")
	}
}

// normalSample draws n values N(mean, sd²) from seed.
func normalSample(seed uint64, n int, mean, sd float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]float64, n)
	for i := range out {
		out[i] = mean + sd*rng.NormFloat64()
	}
	return out
}

func TestSketchTestsApproximateTheExactOnes(t *testing.T) {
	train := normalSample(1, 3000, 0, 0.01)
	for _, tc := range []struct {
		name   string
		sample []float64
	}{
		{"same", normalSample(2, 400, 0, 0.01)},
		{"wider", normalSample(3, 400, 0, 0.02)},
		{"shifted", normalSample(4, 400, 0.005, 0.01)},
	} {
		sorted := slices.Sorted(slices.Values(tc.sample))
		sk := quantileSketch(slices.Sorted(slices.Values(train)), sketchSize)
		exact, _ := KSTest(tc.sample, train)
		if got := ksAgainstSketch(sorted, sk); !near(got, exact, 0.006) {
			t.Errorf("%s: KS against sketch %v, exact %v", tc.name, got, exact)
		}
		// Exact JS over the same decile edges of the training sample.
		edges := make([]float64, 0, 9)
		for j := 1; j < 10; j++ {
			edges = append(edges, quantileSorted(slices.Sorted(slices.Values(train)), float64(j)/10))
		}
		if got, want := jsAgainstSketch(sorted, sk, 10), JSDivergence(binCounts(train, edges), binCounts(tc.sample, edges)); !near(got, want, 0.005) {
			t.Errorf("%s: JS against sketch %v, exact %v", tc.name, got, want)
		}
	}
}

// binCounts counts values in right-closed bins (−∞, e0], (e0, e1], …, (e_last, ∞).
func binCounts(v, edges []float64) []float64 {
	c := make([]float64, len(edges)+1)
	for _, x := range v {
		i, _ := slices.BinarySearch(edges, x)
		c[i]++
	}
	return c
}

func TestSketchCDFWithTiedKnots(t *testing.T) {
	k := []float64{-1, 0, 0, 0, 1} // m = 4: a jump of ½ at 0
	cases := []struct{ x, at, below float64 }{
		{-2, 0, 0}, {-1, 0.25 * 0, 0}, {-0.5, 0.125, 0.125}, {0, 0.75, 0.25}, {0.5, 0.875, 0.875}, {1, 1, 0.875 + 0.125}, {2, 1, 1},
	}
	for _, tc := range cases {
		if got := sketchCDF(k, tc.x); !near(got, tc.at, 1e-12) {
			t.Errorf("F(%v) = %v, want %v", tc.x, got, tc.at)
		}
		if got := sketchCDFBelow(k, tc.x); !near(got, tc.below, 1e-12) {
			t.Errorf("F(%v−) = %v, want %v", tc.x, got, tc.below)
		}
	}
}
