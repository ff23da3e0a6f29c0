package prep_test

import (
	"math"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

// jumpBars is a 40-row walk with a break at row 20 and every row from 20 on
// 1.5 times higher, as if rows had been dropped there: a return or label
// across the break would stand out.
func jumpBars() *frame.Bars {
	b := walkBars(40)
	for r := 20; r < 40; r++ {
		for _, col := range [][]float64{b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume} {
			col[r] *= 1.5
		}
	}
	b.Breaks = []int{20}
	return b
}

var jumpSegments = [][2]int{{0, 20}, {20, 40}}

// expectedRaw is the unscaled feature of every row that has one, written
// out from the definitions.
func expectedRaw(b *frame.Bars, target, feature string) []float64 {
	col := map[string][]float64{"open": b.Open, "close": b.Close, "volume": b.Volume}[feature]
	if target == prep.TargetPrice {
		return col
	}
	var out []float64
	for _, s := range jumpSegments {
		for r := s[0] + 1; r < s[1]; r++ {
			if feature == "volume" {
				out = append(out, math.Log((1+col[r])/(1+col[r-1])))
			} else {
				out = append(out, math.Log(col[r]/col[r-1]))
			}
		}
	}
	return out
}

// expectedLabels is the unscaled label of every window end whose target is
// in the same segment.
func expectedLabels(b *frame.Bars, target string, h int) []float64 {
	var out []float64
	for _, s := range jumpSegments {
		for r := s[0]; r+h < s[1]; r++ {
			if target == prep.TargetPrice {
				out = append(out, b.Open[r+h])
			} else {
				out = append(out, math.Log(b.Open[r+h]/b.Open[r]))
			}
		}
	}
	return out
}

// expectedAffine computes minmax (min, range) or standard (mean,
// population std, two-pass) parameters.
func expectedAffine(vs []float64, scaler string) (shift, scale, lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	var sum float64
	for _, v := range vs {
		lo, hi, sum = math.Min(lo, v), math.Max(hi, v), sum+v
	}
	if scaler == prep.ScalerMinMax {
		return lo, hi - lo, lo, hi
	}
	mean := sum / float64(len(vs))
	var ss float64
	for _, v := range vs {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(vs))), lo, hi
}

func TestFitTransformFitsScalersOnTrain(t *testing.T) {
	train := jumpBars()
	features := []string{"open", "volume"}
	for _, target := range []string{prep.TargetPrice, prep.TargetLogReturn} {
		for _, scaler := range []string{prep.ScalerMinMax, prep.ScalerStandard} {
			for _, h := range []int{1, 3} {
				spec := prep.TransformSpec{Target: target, Scaler: scaler, Features: features}
				tr, err := prep.FitTransform(spec, train, h)
				if err != nil {
					t.Fatalf("%+v h=%d: %v", spec, h, err)
				}
				if tr.Horizon != h || len(tr.Features) != len(features) {
					t.Fatalf("%+v: horizon %d, %d feature scalers", spec, tr.Horizon, len(tr.Features))
				}
				check := func(what string, a prep.Affine, vs []float64) {
					shift, scale, lo, hi := expectedAffine(vs, scaler)
					if !near(a.Shift, shift, 1e-9) || !near(a.Scale, scale, 1e-9) || !near(a.Min, lo, 1e-12) || !near(a.Max, hi, 1e-12) {
						t.Errorf("%s/%s h=%d %s: shift %v scale %v range [%v, %v], want %v %v [%v, %v]",
							target, scaler, h, what, a.Shift, a.Scale, a.Min, a.Max, shift, scale, lo, hi)
					}
				}
				for i, f := range features {
					check(f, tr.Features[i], expectedRaw(train, target, f))
				}
				check("label", tr.Label, expectedLabels(train, target, h))
				if target == prep.TargetLogReturn && tr.Features[0].Max > 0.05 {
					t.Errorf("%s h=%d: open return max %v: the jump across the break was used", scaler, h, tr.Features[0].Max)
				}
			}
		}
	}
}

func TestFitTransformErrors(t *testing.T) {
	constVolume := walkBars(20)
	for i := range constVolume.Volume {
		constVolume.Volume[i] = 5
	}
	tests := []struct {
		name    string
		spec    prep.TransformSpec
		bars    *frame.Bars
		horizon int
	}{
		{name: "bad spec", spec: prep.TransformSpec{Target: "returns", Scaler: prep.ScalerStandard, Features: []string{"open"}}, bars: walkBars(20), horizon: 1},
		{name: "horizon 0", spec: prep.DefaultTransformSpec(), bars: walkBars(20), horizon: 0},
		{name: "constant feature", spec: prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"volume"}}, bars: constVolume, horizon: 1},
		{name: "too few rows", spec: prep.DefaultTransformSpec(), bars: walkBars(2), horizon: 1},
	}
	for _, tc := range tests {
		if _, err := prep.FitTransform(tc.spec, tc.bars, tc.horizon); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestTransformSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		spec    prep.TransformSpec
		wantErr string
	}{
		{name: "default", spec: prep.DefaultTransformSpec()},
		{name: "price minmax all features", spec: prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax,
			Features: []string{"open", "high", "low", "close", "adj_close", "volume"}}},
		{name: "unknown target", spec: prep.TransformSpec{Target: "returns", Scaler: prep.ScalerMinMax, Features: []string{"open"}}, wantErr: "returns"},
		{name: "empty target", spec: prep.TransformSpec{Scaler: prep.ScalerMinMax, Features: []string{"open"}}, wantErr: "target"},
		{name: "unknown scaler", spec: prep.TransformSpec{Target: prep.TargetPrice, Scaler: "robust", Features: []string{"open"}}, wantErr: "robust"},
		{name: "no features", spec: prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax}, wantErr: "feature"},
		{name: "unknown feature", spec: prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"open", "vwap"}}, wantErr: "vwap"},
		{name: "case matters", spec: prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"Open"}}, wantErr: "Open"},
		{name: "duplicate", spec: prep.TransformSpec{Target: prep.TargetLogReturn, Scaler: prep.ScalerStandard, Features: []string{"open", "close", "open"}}, wantErr: "twice"},
	}
	for _, tc := range tests {
		err := tc.spec.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestTransformPriceInvertsLabel(t *testing.T) {
	b := walkBars(40)
	for _, target := range []string{prep.TargetPrice, prep.TargetLogReturn} {
		for _, scaler := range []string{prep.ScalerMinMax, prep.ScalerStandard} {
			tr, err := prep.FitTransform(prep.TransformSpec{Target: target, Scaler: scaler, Features: []string{"open"}}, b, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ last, target float64 }{{100, 101}, {100, 97.5}, {250, 260}, {1, 1}} {
				raw := c.target
				if target == prep.TargetLogReturn {
					raw = math.Log(c.target / c.last)
				}
				scaled := (raw - tr.Label.Shift) / tr.Label.Scale
				if got := tr.Price(c.last, scaled); !near(got, c.target, 1e-9) {
					t.Errorf("%s/%s: Price(%v, %v) = %v, want %v", target, scaler, c.last, scaled, got, c.target)
				}
			}
			// And on windows: the float32 label turns back into the target.
			w, err := prep.MakeWindows(b, tr, 5)
			if err != nil {
				t.Fatal(err)
			}
			for i := range w.Len() {
				if got := tr.Price(w.Last[i], float64(w.Y[i])); !near(got, w.Target[i], 1e-4) {
					t.Fatalf("%s/%s window %d: Price = %v, want %v", target, scaler, i, got, w.Target[i])
				}
			}
		}
	}
}

// trendBars has log-returns 0.01 + 0.003·c with c cycling through pattern:
// a steady 1% daily climb with a little wobble.
func trendBars(n int, pattern []float64) *frame.Bars {
	rets := make([]float64, n-1)
	for i := range rets {
		rets[i] = 0.01 + 0.003*pattern[i%len(pattern)]
	}
	return returnBars(rets)
}

func TestTransformCoverage(t *testing.T) {
	wide := []float64{1, -1, 0.5, -0.5, 0}
	narrow := []float64{0.5, -0.5, 0} // strictly inside the training wobble
	train := trendBars(30, wide)
	rising := trendBars(60, wide).Slice(20, 40) // half inside the training range, half above
	above := trendBars(60, narrow).Slice(40, 60)
	for _, target := range []string{prep.TargetPrice, prep.TargetLogReturn} {
		tr, err := prep.FitTransform(prep.TransformSpec{Target: target, Scaler: prep.ScalerStandard, Features: []string{"open", "close"}}, train, 1)
		if err != nil {
			t.Fatal(err)
		}
		if cov := tr.Coverage(train); cov["open"] != 1 || cov["close"] != 1 || len(cov) != 2 {
			t.Errorf("%s: train coverage %v, want 1 for both features", target, cov)
		}
		cov := tr.Coverage(rising)
		if target == prep.TargetPrice && cov["open"] != 0.5 {
			t.Errorf("price: coverage of rows 20–39 = %v, want 0.5 (rows 30–39 are above the training max)", cov["open"])
		}
		cov = tr.Coverage(above)
		switch target {
		case prep.TargetPrice:
			if cov["open"] != 0 || cov["close"] != 0 {
				t.Errorf("price: coverage of rows 40–59 = %v, want 0 (all above the training range)", cov)
			}
		case prep.TargetLogReturn:
			if cov["open"] != 1 || cov["close"] != 1 {
				t.Errorf("logret: coverage of rows 40–59 = %v, want 1 (same growth as train)", cov)
			}
		}
	}
}
