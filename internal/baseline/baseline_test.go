package baseline_test

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/baseline"
)

func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestBaselinesHandComputed(t *testing.T) {
	y := []float64{100, 102, 101, 104, 103}
	// Returns: r1 = 0.02, r2 = 101/102 − 1 = −0.0098039, r3 = 104/101 − 1 = 0.0297030.
	// EWMA with half-life 1 weighs each older return by 0.5:
	//   origin 1: m = 0.02                                → 102·1.02 = 104.04
	//   origin 2: m = (r2 + 0.5 r1)/1.5 = 0.00013072      → 101.013203
	//   origin 3: m = (r3 + 0.5 r2 + 0.25 r1)/1.75 = 0.0170291 → 105.771031
	// Drift: origin 1: 102 + 2/1 = 104; origin 2: 101 + 1/2 = 101.5;
	//   origin 3: 104 + 4/3 = 105.333333.
	// Horizon 2 from origins 1 and 2: drift 102 + 2·2 = 106, 101 + 2·0.5 = 102;
	//   EWMA 102·1.02² = 106.1208, 101·1.00013072² = 101.026407.
	tests := []struct {
		kind    string
		targets []int
		o       baseline.Options
		want    []float64
	}{
		{baseline.KindNaive, []int{1, 2, 3, 4}, baseline.Options{}, []float64{100, 102, 101, 104}},
		{baseline.KindNaive, []int{3, 4}, baseline.Options{Horizon: 2}, []float64{102, 101}},
		{baseline.KindDrift, []int{2, 3, 4}, baseline.Options{}, []float64{104, 101.5, 105.333333}},
		{baseline.KindDrift, []int{3, 4}, baseline.Options{Horizon: 2}, []float64{106, 102}},
		{baseline.KindEWMA, []int{2, 3, 4}, baseline.Options{HalfLife: 1}, []float64{104.04, 101.013203, 105.771031}},
		{baseline.KindEWMA, []int{3, 4}, baseline.Options{HalfLife: 1, Horizon: 2}, []float64{106.1208, 101.026407}},
	}
	for _, tc := range tests {
		got, err := baseline.Forecast(tc.kind, y, tc.targets, tc.o)
		if err != nil {
			t.Fatalf("%s %+v: %v", tc.kind, tc.o, err)
		}
		for i := range tc.want {
			if !closeTo(got[i], tc.want[i]) {
				t.Errorf("%s %+v target %d: got %.6f, want %.6f", tc.kind, tc.o, tc.targets[i], got[i], tc.want[i])
			}
		}
	}
}

// TestBaselinesMatchTheirDefinitions recomputes each forecast on a long
// random walk by another route: drift as the mean of the daily changes
// (not the telescoped end points), EWMA as an explicit weighted sum per
// target from the half-life's definition (not the running recursion).
func TestBaselinesMatchTheirDefinitions(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	y := randomWalk(rng, 600)
	var targets []int
	for t := 2; t < len(y); t += 1 + rng.Intn(9) {
		targets = append(targets, t)
	}
	for _, h := range []int{1, 3} {
		var tg []int
		for _, t := range targets {
			if t-h >= 1 {
				tg = append(tg, t)
			}
		}
		drift, err := baseline.Forecast(baseline.KindDrift, y, tg, baseline.Options{Horizon: h})
		if err != nil {
			t.Fatal(err)
		}
		// Default half-life 20: a return 20 rows older weighs half as much.
		ewma, err := baseline.Forecast(baseline.KindEWMA, y, tg, baseline.Options{Horizon: h})
		if err != nil {
			t.Fatal(err)
		}
		for i, target := range tg {
			o := target - h
			changes := 0.0
			for j := 1; j <= o; j++ {
				changes += y[j] - y[j-1]
			}
			if want := y[o] + float64(h)*changes/float64(o); !closeTo(drift[i], want) {
				t.Fatalf("h %d: drift for row %d is %v, the mean daily change gives %v", h, target, drift[i], want)
			}
			var num, den float64
			for j := o; j >= 1; j-- {
				w := math.Pow(0.5, float64(o-j)/20)
				num += w * (y[j]/y[j-1] - 1)
				den += w
			}
			if want := y[o] * math.Pow(1+num/den, float64(h)); !closeTo(ewma[i], want) {
				t.Fatalf("h %d: EWMA for row %d is %v, the weighted sum gives %v", h, target, ewma[i], want)
			}
		}
	}
}

// TestBaselinesDoNotLookAhead changes every value from a cut on and
// checks that no forecast whose origin is before the cut moves.
func TestBaselinesDoNotLookAhead(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	y := randomWalk(rng, 200)
	var targets []int
	for t := 3; t < len(y); t++ {
		targets = append(targets, t)
	}
	for _, kind := range baseline.Kinds() {
		for _, h := range []int{1, 2} {
			o := baseline.Options{Horizon: h}
			before, err := baseline.Forecast(kind, y, targets, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, cut := range []int{5, 50, 120, 199} {
				future := append([]float64(nil), y...)
				for i := cut; i < len(future); i++ {
					future[i] *= 3 + rng.Float64()
				}
				after, err := baseline.Forecast(kind, future, targets, o)
				if err != nil {
					t.Fatal(err)
				}
				for i, target := range targets {
					if target-h < cut && after[i] != before[i] {
						t.Fatalf("%s h %d: changing rows from %d on moved the forecast of row %d (origin %d): %v → %v",
							kind, h, cut, target, target-h, before[i], after[i])
					}
				}
			}
		}
	}
}

func TestBaselinesRefuseBadInput(t *testing.T) {
	y := []float64{100, 101, 102, 103}
	gap := []float64{100, math.NaN(), 102, 103}
	tests := []struct {
		name    string
		kind    string
		y       []float64
		targets []int
		o       baseline.Options
		want    string
	}{
		{"unknown kind", "arima", y, []int{2}, baseline.Options{}, "unknown kind"},
		{"target past the series", baseline.KindNaive, y, []int{4}, baseline.Options{}, "target row 4"},
		{"naive target with no past", baseline.KindNaive, y, []int{0}, baseline.Options{}, "target row 0"},
		{"drift needs a change before the origin", baseline.KindDrift, y, []int{1}, baseline.Options{}, "target row 1"},
		{"horizon reaches before the data", baseline.KindEWMA, y, []int{2}, baseline.Options{Horizon: 2}, "target row 2"},
		{"negative horizon", baseline.KindNaive, y, []int{2}, baseline.Options{Horizon: -1}, "horizon"},
		{"negative half-life", baseline.KindEWMA, y, []int{2}, baseline.Options{HalfLife: -5}, "half-life"},
		{"gap in the history", baseline.KindEWMA, gap, []int{3}, baseline.Options{}, "row 1 is not a number"},
		{"gap at the origin", baseline.KindNaive, gap, []int{2}, baseline.Options{}, "row 1 is not a number"},
		{"non-positive price", baseline.KindEWMA, []float64{100, 0, 1, 2}, []int{3}, baseline.Options{}, "not positive"},
	}
	for _, tc := range tests {
		got, err := baseline.Forecast(tc.kind, tc.y, tc.targets, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, %v; want an error saying %q", tc.name, got, err, tc.want)
		}
	}
}

func randomWalk(rng *rand.Rand, n int) []float64 {
	y := make([]float64, n)
	y[0] = 100
	for i := 1; i < n; i++ {
		y[i] = y[i-1] * math.Exp(0.0005+0.02*rng.NormFloat64())
	}
	return y
}
