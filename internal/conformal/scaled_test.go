package conformal_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/finsight/finsight/internal/conformal"
)

func TestScaledBandsHandComputed(t *testing.T) {
	// Residuals 2, −3, 1, 8 over scales 100, 100, 50, 200: 0.02, −0.03,
	// 0.02, 0.04. Sorted |·|: 0.02, 0.02, 0.03, 0.04; n = 4, level 0.6:
	// k = ⌈5·0.6⌉ = 3rd = 0.03.
	actual, point, scale := []float64{102, 97, 51, 208}, []float64{100, 100, 50, 200}, []float64{100, 100, 50, 200}
	res, err := conformal.ScaledResiduals(actual, point, scale)
	if err != nil || math.Abs(res[1]+0.03) > 1e-12 || math.Abs(res[3]-0.04) > 1e-12 {
		t.Fatalf("residuals %v, %v", res, err)
	}
	bands, err := conformal.CalibrateScaled(actual, point, scale, []float64{0.6})
	if err != nil || math.Abs(bands[0].HalfWidth-0.03) > 1e-12 || bands[0].N != 4 {
		t.Fatalf("bands %+v, %v; want half-width 0.03 over 4", bands, err)
	}
	// On test days at last Open 100 and 300 the half-widths are 3 and 9:
	// errors 3 (on the bound) and 10 (outside): half covered, mean width
	// (6 + 18) / 2 = 12.
	out, err := conformal.EvaluateScaled([]float64{103, 310}, []float64{100, 300}, []float64{100, 300}, bands)
	if err != nil || len(out) != 1 || out[0].Coverage != 0.5 || math.Abs(out[0].Width-12) > 1e-9 || out[0].N != 2 ||
		out[0].HalfWidth != bands[0].HalfWidth {
		t.Fatalf("evaluate %+v, %v; want coverage 0.5, width 12", out, err)
	}
	// Without a scale it is plain split conformal.
	plain, err := conformal.EvaluateScaled([]float64{103, 310}, []float64{100, 300}, nil, []conformal.Band{{Level: 0.6, HalfWidth: 3}})
	want, _ := conformal.Evaluate([]float64{103, 310}, []float64{100, 300}, []conformal.Band{{Level: 0.6, HalfWidth: 3}})
	if err != nil || plain[0] != want[0] {
		t.Fatalf("unscaled %+v, %v; want Evaluate's %+v", plain, err, want)
	}
}

func TestScaledRefusesBadScales(t *testing.T) {
	for name, scale := range map[string][]float64{
		"zero": {1, 0}, "negative": {1, -2}, "NaN": {1, math.NaN()}, "infinite": {1, math.Inf(1)}, "short": {1},
	} {
		if _, err := conformal.ScaledResiduals([]float64{1, 2}, []float64{1, 1}, scale); err == nil {
			t.Errorf("%s scale: residuals accepted", name)
		}
		if _, err := conformal.EvaluateScaled([]float64{1, 2}, []float64{1, 1}, scale, []conformal.Band{{Level: 0.8, HalfWidth: 1}}); err == nil {
			t.Errorf("%s scale: evaluation accepted", name)
		}
	}
	if _, err := conformal.EvaluateScaled(nil, nil, nil, []conformal.Band{{Level: 0.8, HalfWidth: 1}}); err == nil {
		t.Error("no values: evaluation accepted")
	}
}

// TestScaledBandsFollowAPriceThatDoubles is why the backtest and /predict
// scale: errors proportional to the price, calibrated around 100 and
// tested around 200. Scaled bands cover about their level (binomial
// error plus the calibration set's); price-unit bands, half as wide as
// the test errors need, cover far less.
func TestScaledBandsFollowAPriceThatDoubles(t *testing.T) {
	const n, m = 999, 20000
	rng := rand.New(rand.NewSource(3))
	draw := func(k int, price float64) (actual, point, last []float64) {
		for range k {
			p := price * (1 + 0.1*rng.Float64())
			actual, point, last = append(actual, p*(1+0.02*rng.NormFloat64())), append(point, p), append(last, p)
		}
		return actual, point, last
	}
	va, vp, vl := draw(n, 100)
	ta, tp, tl := draw(m, 200)
	levels := conformal.DefaultLevels()
	scaled, err := conformal.CalibrateScaled(va, vp, vl, levels)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := conformal.CalibrateScaled(va, vp, nil, levels)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := conformal.EvaluateScaled(ta, tp, tl, scaled)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := conformal.EvaluateScaled(ta, tp, nil, plain)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range levels {
		tol := 3*math.Sqrt(a*(1-a)*(1.0/m+1.0/(n+2))) + 1.0/(n+1)
		if math.Abs(sr[i].Coverage-a) > tol {
			t.Errorf("scaled at %g: coverage %.4f, want within %.4f", a, sr[i].Coverage, tol)
		}
		if pr[i].Coverage > a-0.2 {
			t.Errorf("price-unit bands at %g: coverage %.4f, want well under the level on prices twice as high", a, pr[i].Coverage)
		}
		if sr[i].Width < 1.8*pr[i].Width {
			t.Errorf("at %g: scaled width %.3f, price-unit %.3f; want the scaled band about twice as wide on doubled prices", a, sr[i].Width, pr[i].Width)
		}
	}
}
