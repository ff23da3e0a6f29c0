package prep_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

func fit(t *testing.T, target string, features []string, b *frame.Bars, h int) prep.Transform {
	t.Helper()
	tr, err := prep.FitTransform(prep.TransformSpec{Target: target, Scaler: prep.ScalerStandard, Features: features}, b, h)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func warmup(target string) int {
	if target == prep.TargetLogReturn {
		return 1
	}
	return 0
}

func TestMakeWindowsCount(t *testing.T) {
	const n = 25
	train := walkBars(n)
	for _, target := range []string{prep.TargetPrice, prep.TargetLogReturn} {
		for _, breaks := range [][]int{nil, {7}, {7, 15}, {1, 24}} {
			for _, lookback := range []int{3, 5} {
				for _, h := range []int{1, 3} {
					name := fmt.Sprintf("%s breaks %v lookback %d h %d", target, breaks, lookback, h)
					tr := fit(t, target, []string{"open"}, train, h)
					b := walkBars(n)
					b.Breaks = breaks
					w, err := prep.MakeWindows(b, tr, lookback)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					// lookback counts rows of prices; the model sees
					// steps = lookback − warmup of them, so per segment there are
					// segLen − steps − warmup − h + 1 = segLen − lookback − h + 1.
					steps := lookback - warmup(target)
					if tr.Steps(lookback) != steps || w.Lookback != steps || w.Features != 1 {
						t.Fatalf("%s: Steps %d, windows lookback %d features %d; want %d steps, 1 feature",
							name, tr.Steps(lookback), w.Lookback, w.Features, steps)
					}
					want, start := 0, 0
					for _, end := range append(append([]int(nil), breaks...), n) {
						want += max(0, (end-start)-steps-warmup(target)-h+1)
						start = end
					}
					if w.Len() != want {
						t.Errorf("%s: %d windows, want %d", name, w.Len(), want)
					}
					if len(w.X) != w.Len()*steps || len(w.TargetDate) != w.Len() || len(w.Last) != w.Len() || len(w.Target) != w.Len() {
						t.Errorf("%s: ragged windows: %d x, %d y", name, len(w.X), w.Len())
					}
				}
			}
		}
	}
}

// scaledFeatures is each row's scaled feature, written out from the
// definitions (NaN where a log-return has no previous row in its segment).
func scaledFeatures(b *frame.Bars, tr prep.Transform) [][]float32 {
	isStart := map[int]bool{0: true}
	for _, r := range b.Breaks {
		isStart[r] = true
	}
	out := make([][]float32, len(tr.Spec.Features))
	for i, f := range tr.Spec.Features {
		col := map[string][]float64{"open": b.Open, "close": b.Close, "volume": b.Volume}[f]
		out[i] = make([]float32, b.Len())
		for r := range b.Len() {
			raw := col[r]
			if tr.Spec.Target == prep.TargetLogReturn {
				switch {
				case isStart[r]:
					raw = math.NaN()
				case f == "volume":
					raw = math.Log1p(col[r]) - math.Log1p(col[r-1])
				default:
					raw = math.Log(col[r] / col[r-1])
				}
			}
			out[i][r] = float32((raw - tr.Features[i].Shift) / tr.Features[i].Scale)
		}
	}
	return out
}

func TestMakeWindowsLayoutAndBreaks(t *testing.T) {
	const lookback, h = 5, 2
	features := []string{"open", "volume"}
	train := walkBars(60).Slice(0, 30) // scalers from other rows than the windowed ones
	b := jumpBars()                    // break at 20 with a 1.5× jump
	segOf := func(r int) int {
		if r < 20 {
			return 0
		}
		return 1
	}
	for _, target := range []string{prep.TargetPrice, prep.TargetLogReturn} {
		t.Run(target, func(t *testing.T) {
			tr := fit(t, target, features, train, h)
			w, err := prep.MakeWindows(b, tr, lookback)
			if err != nil {
				t.Fatal(err)
			}
			steps, nf := lookback-warmup(target), len(features)
			if w.Lookback != steps || w.Features != nf || len(w.X) != w.Len()*steps*nf {
				t.Fatalf("lookback %d features %d with %d x for %d windows", w.Lookback, w.Features, len(w.X), w.Len())
			}
			feats := scaledFeatures(b, tr)
			dateRow := map[int64]int{}
			for r, d := range b.Date {
				dateRow[d.Unix()] = r
			}
			var ends []int
			for i := range w.Len() {
				target, ok := dateRow[w.TargetDate[i].Unix()]
				if !ok {
					t.Fatalf("window %d: target date %v is not a row", i, w.TargetDate[i])
				}
				end := target - h
				ends = append(ends, end)
				first := end - lookback + 1
				if first < 0 || segOf(first) != segOf(target) {
					t.Errorf("window %d spans rows %d..%d (target %d) across the break", i, first, end, target)
				}
				if w.Last[i] != b.Open[end] || w.Target[i] != b.Open[target] {
					t.Errorf("window %d: last %v target %v, want Open[%d] %v and Open[%d] %v",
						i, w.Last[i], w.Target[i], end, b.Open[end], target, b.Open[target])
				}
				label := b.Open[target]
				if tr.Spec.Target == prep.TargetLogReturn {
					label = math.Log(b.Open[target] / b.Open[end])
				}
				if want := float32((label - tr.Label.Shift) / tr.Label.Scale); w.Y[i] != want {
					t.Errorf("window %d: y %v, want %v", i, w.Y[i], want)
				}
				for s := range steps {
					for f := range nf {
						got := w.X[(i*steps+s)*nf+f]
						want := feats[f][end-steps+1+s]
						if got != want || math.IsNaN(float64(got)) {
							t.Fatalf("window %d step %d feature %s: x %v, want row %d's %v", i, s, features[f], got, end-steps+1+s, want)
						}
					}
				}
			}
			// Every end whose rows and target fit in one segment, in order.
			var want []int
			for _, seg := range jumpSegments {
				for end := seg[0] + lookback - 1; end+h < seg[1]; end++ {
					want = append(want, end)
				}
			}
			if fmt.Sprint(ends) != fmt.Sprint(want) {
				t.Errorf("window ends %v, want %v", ends, want)
			}
		})
	}
}

func TestMakeWindowsSkipsWindowsWithMissingValues(t *testing.T) {
	b := walkBars(20)
	tr := fit(t, prep.TargetLogReturn, []string{"open"}, b, 1)
	full, err := prep.MakeWindows(b, tr, 4)
	if err != nil {
		t.Fatal(err)
	}
	b.Open[10] = nan // spoils the returns of rows 10 and 11 and the labels touching row 10
	w, err := prep.MakeWindows(b, tr, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w.Len() {
		for _, x := range w.X[i*3 : i*3+3] {
			if math.IsNaN(float64(x)) {
				t.Fatalf("window %d has a NaN feature", i)
			}
		}
		if math.IsNaN(w.Last[i]) || math.IsNaN(w.Target[i]) {
			t.Fatalf("window %d: last %v target %v", i, w.Last[i], w.Target[i])
		}
	}
	// Ends 9 (target 10), 10, 11, 12, 13 (features at 10 or 11) go.
	if w.Len() != full.Len()-5 {
		t.Errorf("%d windows, want %d", w.Len(), full.Len()-5)
	}
}

func TestMakeWindowsErrorWhenNoneFits(t *testing.T) {
	train := walkBars(30)
	tests := []struct {
		name     string
		target   string
		n        int
		breaks   []int
		lookback int
		h        int
	}{
		{name: "too few rows", target: prep.TargetPrice, n: 5, lookback: 5, h: 1},
		{name: "horizon past the end", target: prep.TargetLogReturn, n: 8, lookback: 5, h: 4},
		{name: "segments too short", target: prep.TargetLogReturn, n: 12, breaks: []int{4, 8}, lookback: 4, h: 1},
		{name: "lookback gives no step", target: prep.TargetLogReturn, n: 20, lookback: 1, h: 1},
		{name: "zero lookback", target: prep.TargetPrice, n: 20, lookback: 0, h: 1},
	}
	for _, tc := range tests {
		tr := fit(t, tc.target, []string{"open"}, train, tc.h)
		b := walkBars(tc.n)
		b.Breaks = tc.breaks
		if w, err := prep.MakeWindows(b, tr, tc.lookback); err == nil {
			t.Errorf("%s: %d windows, no error", tc.name, w.Len())
		}
	}
}

func recentValues(b *frame.Bars, features []string, from, to int) map[string][]float64 {
	cols := map[string][]float64{"open": b.Open, "high": b.High, "low": b.Low, "close": b.Close, "adj_close": b.AdjClose, "volume": b.Volume}
	m := map[string][]float64{}
	for _, f := range append([]string{"open"}, features...) {
		m[f] = cols[f][from:to]
	}
	return m
}

func TestRecentWindowMatchesLastWindow(t *testing.T) {
	const n, lookback, h = 40, 6, 3
	b := walkBars(n)
	for _, target := range []string{prep.TargetPrice, prep.TargetLogReturn} {
		for _, features := range [][]string{{"open"}, {"close", "volume"}, {"open", "high", "volume"}} {
			name := fmt.Sprintf("%s %v", target, features)
			tr := fit(t, target, features, b, h)
			w, err := prep.MakeWindows(b, tr, lookback)
			if err != nil {
				t.Fatal(err)
			}
			per := w.Lookback * w.Features
			last := w.X[(w.Len()-1)*per:]
			end := n - 1 - h // the last window's last row
			// The whole history up to the window's end, or just its rows.
			for _, from := range []int{0, end - lookback + 1} {
				x, lastOpen, err := prep.RecentWindow(tr, recentValues(b, features, from, end+1), lookback)
				if err != nil {
					t.Fatalf("%s from %d: %v", name, from, err)
				}
				if len(x) != per {
					t.Fatalf("%s from %d: %d values, want %d", name, from, len(x), per)
				}
				for i := range x {
					if x[i] != last[i] {
						t.Fatalf("%s from %d: x[%d] = %v, the last window has %v", name, from, i, x[i], last[i])
					}
				}
				if lastOpen != b.Open[end] || lastOpen != w.Last[w.Len()-1] {
					t.Errorf("%s: last open %v, want %v", name, lastOpen, b.Open[end])
				}
			}
		}
	}
}

func TestRecentWindowErrors(t *testing.T) {
	const lookback = 6
	b := walkBars(30)
	features := []string{"close", "volume"}
	tests := []struct {
		name    string
		target  string
		recent  func() map[string][]float64
		wantErr string
	}{
		// lookback counts rows of prices: in logret mode that is the model's
		// lookback−1 = 5 steps plus the row the first return starts from.
		{name: "too few logret", target: prep.TargetLogReturn,
			recent: func() map[string][]float64 { return recentValues(b, features, 25, 30) }, wantErr: fmt.Sprintf("at least %d", lookback)},
		{name: "too few price", target: prep.TargetPrice,
			recent: func() map[string][]float64 { return recentValues(b, features, 26, 30) }, wantErr: fmt.Sprintf("at least %d", lookback)},
		{name: "missing feature", target: prep.TargetLogReturn,
			recent: func() map[string][]float64 {
				m := recentValues(b, features, 0, 30)
				delete(m, "volume")
				return m
			}, wantErr: "volume"},
		{name: "missing open", target: prep.TargetPrice,
			recent: func() map[string][]float64 {
				m := recentValues(b, features, 0, 30)
				delete(m, "open")
				return m
			}, wantErr: "Open"},
		{name: "mismatched lengths", target: prep.TargetLogReturn,
			recent: func() map[string][]float64 {
				m := recentValues(b, features, 0, 30)
				m["volume"] = m["volume"][1:]
				return m
			}, wantErr: "29"},
		{name: "short open", target: prep.TargetPrice,
			recent: func() map[string][]float64 {
				m := recentValues(b, features, 0, 30)
				m["open"] = m["open"][:3]
				return m
			}, wantErr: fmt.Sprintf("at least %d", lookback)},
		{name: "missing value", target: prep.TargetLogReturn,
			recent: func() map[string][]float64 {
				m := recentValues(b, features, 0, 30)
				m["close"] = append([]float64(nil), m["close"]...)
				m["close"][28] = nan
				return m
			}, wantErr: "close"},
	}
	for _, tc := range tests {
		tr := fit(t, tc.target, features, b, 1)
		_, _, err := prep.RecentWindow(tr, tc.recent(), lookback)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.wantErr)
		}
	}
	// Exactly lookback values is enough in both modes.
	for _, target := range []string{prep.TargetPrice, prep.TargetLogReturn} {
		tr := fit(t, target, features, b, 1)
		if _, _, err := prep.RecentWindow(tr, recentValues(b, features, 30-lookback, 30), lookback); err != nil {
			t.Errorf("%s with %d values: %v", target, lookback, err)
		}
	}
}
