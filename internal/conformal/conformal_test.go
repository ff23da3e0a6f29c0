package conformal_test

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/conformal"
)

func TestCalibrateHandComputed(t *testing.T) {
	// |residuals| sorted: 1, 2, 3, 5 (n = 4). k = ⌈5·level⌉:
	// 0.2 → 1st = 1; 0.5 → ⌈2.5⌉ = 3rd = 3; 0.8 → 4th = 5.
	bands, err := conformal.Calibrate([]float64{-3, 1, -2, 5}, []float64{0.2, 0.5, 0.8})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 3, 5}
	for i, b := range bands {
		if b.HalfWidth != want[i] || b.N != 4 {
			t.Errorf("level %g: half-width %g over %d residuals, want %g over 4", b.Level, b.HalfWidth, b.N, want[i])
		}
	}
	if lo, hi := bands[1].Interval(10); lo != 7 || hi != 13 || bands[1].Width() != 6 {
		t.Errorf("interval around 10: [%g, %g], width %g; want [7, 13], 6", lo, hi, bands[1].Width())
	}
}

func TestCalibrateAtTheEdgeOfEnoughResiduals(t *testing.T) {
	// 19 residuals are just enough for 95%: (19+1)·0.95 = 19.
	res := make([]float64, 19)
	for i := range res {
		res[i] = float64(i + 1)
	}
	bands, err := conformal.Calibrate(res, conformal.DefaultLevels())
	if err != nil {
		t.Fatal(err)
	}
	// 80%: ⌈20·0.8⌉ = 16th smallest; 95%: the largest.
	if bands[0].HalfWidth != 16 || bands[1].HalfWidth != 19 {
		t.Fatalf("bands %+v, want half-widths 16 and 19", bands)
	}
	if _, err := conformal.Calibrate(res[:18], []float64{0.95}); err == nil || !strings.Contains(err.Error(), "needs at least 19") {
		t.Fatalf("18 residuals at 95%%: %v, want an error asking for 19", err)
	}
	// (99+1)·0.55 is 55.00000000000001 in float64: the rank is still 55.
	res = make([]float64, 99)
	for i := range res {
		res[i] = float64(i + 1)
	}
	if b, err := conformal.Calibrate(res, []float64{0.55}); err != nil || b[0].HalfWidth != 55 {
		t.Fatalf("99 residuals at 55%%: %+v, %v; want half-width 55", b, err)
	}
}

func TestCalibrateRefusesBadInput(t *testing.T) {
	tests := []struct {
		name      string
		residuals []float64
		levels    []float64
	}{
		{"no residuals", nil, []float64{0.8}},
		{"NaN residual", []float64{1, math.NaN(), 2}, []float64{0.5}},
		{"infinite residual", []float64{1, math.Inf(1), 2}, []float64{0.5}},
		{"level 0", []float64{1, 2, 3}, []float64{0}},
		{"level 1", []float64{1, 2, 3}, []float64{1}},
		{"level NaN", []float64{1, 2, 3}, []float64{math.NaN()}},
	}
	for _, tc := range tests {
		if b, err := conformal.Calibrate(tc.residuals, tc.levels); err == nil {
			t.Errorf("%s: accepted, %+v", tc.name, b)
		}
	}
}

func TestCoverageCountsBoundsAsCovered(t *testing.T) {
	// Errors −1 (inside), +1 (on the bound), −4 (outside): 2 of 3.
	b := conformal.Band{Level: 0.8, HalfWidth: 1, N: 10}
	cov, err := conformal.Coverage([]float64{10, 12, 7}, []float64{11, 11, 11}, b)
	if err != nil || cov != 2.0/3 {
		t.Fatalf("coverage %v, %v; want 2/3", cov, err)
	}
	res, err := conformal.Evaluate([]float64{10, 12, 7}, []float64{11, 11, 11}, []conformal.Band{b})
	if err != nil || len(res) != 1 || res[0].Width != 2 || res[0].Coverage != 2.0/3 || res[0].N != 3 {
		t.Fatalf("evaluate: %+v, %v", res, err)
	}
	if _, err := conformal.Coverage([]float64{1}, []float64{1, 2}, b); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := conformal.Coverage(nil, nil, b); err == nil {
		t.Error("empty input accepted")
	}
	r, err := conformal.Residuals([]float64{10, 12}, []float64{11, 11})
	if err != nil || r[0] != -1 || r[1] != 1 {
		t.Fatalf("residuals %v, %v; want [-1 1]", r, err)
	}
}

// distributions of i.i.d. errors, light- to heavy-tailed and skewed.
func distributions() map[string]func(*rand.Rand) float64 {
	return map[string]func(*rand.Rand) float64{
		"normal": func(r *rand.Rand) float64 { return 2 * r.NormFloat64() },
		"laplace": func(r *rand.Rand) float64 {
			if r.Intn(2) == 0 {
				return -r.ExpFloat64()
			}
			return r.ExpFloat64()
		},
		// Student t with 2 degrees of freedom: infinite variance.
		"student-t2": func(r *rand.Rand) float64 { return r.NormFloat64() / math.Sqrt(r.ExpFloat64()) },
		"skewed":     func(r *rand.Rand) float64 { return r.ExpFloat64() - 1 },
	}
}

func draw(r *rand.Rand, gen func(*rand.Rand) float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = gen(r)
	}
	return out
}

// TestCoverageOnFreshDataWithinBinomialError calibrates once on n
// residuals and measures coverage on m fresh ones. The coverage given one
// calibration set varies by about √(α(1−α)/(n+2)) on top of the test
// set's binomial √(α(1−α)/m), so the tolerance is three of the combined
// standard deviation plus the 1/(n+1) the finite-sample rank may add.
func TestCoverageOnFreshDataWithinBinomialError(t *testing.T) {
	const n, m = 999, 20000
	for name, gen := range distributions() {
		rng := rand.New(rand.NewSource(42))
		bands, err := conformal.Calibrate(draw(rng, gen, n), conformal.DefaultLevels())
		if err != nil {
			t.Fatal(err)
		}
		actual := draw(rng, gen, m)
		point := make([]float64, m) // the forecast is 0, so actual is the error
		for _, b := range bands {
			cov, err := conformal.Coverage(actual, point, b)
			if err != nil {
				t.Fatal(err)
			}
			a := b.Level
			tol := 3*math.Sqrt(a*(1-a)*(1.0/m+1.0/(n+2))) + 1.0/(n+1)
			if math.Abs(cov-a) > tol {
				t.Errorf("%s at %g: coverage %.4f, want within %.4f", name, a, cov, tol)
			}
		}
	}
}

// TestCoverageIsExactForSmallCalibrationSets checks the finite-sample
// guarantee itself: averaged over many small calibration sets, coverage
// is k/(n+1) with k = ⌈(n+1)α⌉, at least α. The sizes are chosen where the
// plain ⌈nα⌉-th residual would differ and under-cover (10 at 80%: 8/11 =
// 0.727 instead of 9/11 = 0.818; 30 at 95%: 29/31 instead of 30/31).
func TestCoverageIsExactForSmallCalibrationSets(t *testing.T) {
	const trials, m = 400, 200
	cases := []struct {
		n     int
		level float64
		k     int
	}{{10, 0.8, 9}, {30, 0.95, 30}}
	for name, gen := range distributions() {
		rng := rand.New(rand.NewSource(7))
		for _, c := range cases {
			sum := 0.0
			point := make([]float64, m)
			for i := 0; i < trials; i++ {
				bands, err := conformal.Calibrate(draw(rng, gen, c.n), []float64{c.level})
				if err != nil {
					t.Fatal(err)
				}
				cov, err := conformal.Coverage(draw(rng, gen, m), point, bands[0])
				if err != nil {
					t.Fatal(err)
				}
				sum += cov
			}
			want := float64(c.k) / float64(c.n+1)
			// Coverage given a calibration set is Beta(k, n+1−k); the test
			// set adds binomial noise; the mean of trials shrinks both.
			beta := want * (1 - want) / float64(c.n+2)
			sd := math.Sqrt((beta + want*(1-want)/m) / trials)
			if got := sum / trials; math.Abs(got-want) > 3*sd || got < c.level-3*sd {
				t.Errorf("%s, n %d at %g: mean coverage %.4f, want %.4f ± %.4f", name, c.n, c.level, got, want, 3*sd)
			}
		}
	}
}
