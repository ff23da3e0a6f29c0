package prep

import (
	"fmt"
	"math"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// MakeWindows builds windows of lookback rows (days of prices), labelled
// with the transform's label horizon rows after each window's last row. The
// model sees Steps(lookback) time steps of features: in log-return mode the
// first row of a window only anchors the first return. Windows stay inside
// one split and one segment (no dropped rows inside).
func MakeWindows(b *frame.Bars, t Transform, lookback int) (*frame.Windows, error) {
	steps := t.Steps(lookback)
	if steps < 1 {
		return nil, fmt.Errorf("lookback %d gives no time step for %s features", lookback, t.Spec.Target)
	}
	feats := make([][]float64, len(t.Spec.Features))
	for i, f := range t.Spec.Features {
		feats[i] = t.rawFeature(b, f)
	}
	nf := len(feats)

	w := &frame.Windows{Lookback: steps, Features: nf}
	if n := b.Len() - lookback - t.Horizon + 1; n > 0 { // room for the usual case: every window complete
		w.X = make([]float32, 0, n*steps*nf)
		w.Y, w.Last, w.Target = make([]float32, 0, n), make([]float64, 0, n), make([]float64, 0, n)
		w.TargetDate = make([]time.Time, 0, n)
	}
	bad := badPrefix(feats)
	for _, seg := range b.Segments() {
		for end := seg[0] + lookback - 1; end+t.Horizon < seg[1]; end++ {
			target := end + t.Horizon
			if bad[end+1]-bad[end-steps+1] > 0 || math.IsNaN(b.Open[end]) || math.IsNaN(b.Open[target]) {
				continue
			}
			for r := end - steps + 1; r <= end; r++ {
				for i := range feats {
					w.X = append(w.X, float32(t.Features[i].apply(feats[i][r])))
				}
			}
			w.Y = append(w.Y, float32(t.Label.apply(t.labelValue(b.Open[end], b.Open[target]))))
			w.TargetDate = append(w.TargetDate, b.Date[target])
			w.Last = append(w.Last, b.Open[end])
			w.Target = append(w.Target, b.Open[target])
		}
	}
	if len(w.Y) == 0 {
		return nil, fmt.Errorf("%d rows give no %d-row window with horizon %d", b.Len(), lookback, t.Horizon)
	}
	return w, nil
}

// badPrefix counts, for each row r, the rows before r with a non-finite
// feature, so a window's completeness is one subtraction.
func badPrefix(feats [][]float64) []int {
	n := 0
	if len(feats) > 0 {
		n = len(feats[0])
	}
	out := make([]int, n+1)
	for r := 0; r < n; r++ {
		bad := 0
		for _, f := range feats {
			if math.IsNaN(f[r]) || math.IsInf(f[r], 0) {
				bad = 1
				break
			}
		}
		out[r+1] = out[r] + bad
	}
	return out
}

// RecentWindow turns the most recent lookback raw values of each feature
// (oldest first, equal lengths) into one model input, the same as the last
// window MakeWindows would cut, and returns the last Open.
func RecentWindow(t Transform, recent map[string][]float64, lookback int) ([]float32, float64, error) {
	b := &frame.Bars{}
	n := -1
	for _, f := range t.Spec.Features {
		vs, ok := recent[f]
		if !ok {
			return nil, 0, fmt.Errorf("the model needs %q values", f)
		}
		if n >= 0 && len(vs) != n {
			return nil, 0, fmt.Errorf("%q has %d values, other features %d", f, len(vs), n)
		}
		n = len(vs)
	}
	open, ok := recent["open"]
	if !ok {
		return nil, 0, fmt.Errorf("the last Open is needed")
	}
	if t.Steps(lookback) < 1 {
		return nil, 0, fmt.Errorf("lookback %d gives no time step for %s features", lookback, t.Spec.Target)
	}
	if n < lookback || len(open) < lookback {
		return nil, 0, fmt.Errorf("need at least %d values, got %d", lookback, min(n, len(open)))
	}
	start := n - lookback
	cols := map[string]*[]float64{"open": &b.Open, "high": &b.High, "low": &b.Low, "close": &b.Close, "adj_close": &b.AdjClose, "volume": &b.Volume}
	for _, f := range t.Spec.Features {
		*cols[f] = recent[f][start:]
	}
	b.Date = make([]time.Time, n-start)
	out := make([]float32, 0, t.Steps(lookback)*len(t.Spec.Features))
	feats := make([][]float64, len(t.Spec.Features))
	for i, f := range t.Spec.Features {
		feats[i] = t.rawFeature(b, f)
	}
	for r := t.warmup(); r < n-start; r++ {
		for i := range feats {
			v := feats[i][r]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, 0, fmt.Errorf("feature %s is not finite at value %d", t.Spec.Features[i], start+r)
			}
			out = append(out, float32(t.Features[i].apply(v)))
		}
	}
	return out, open[len(open)-1], nil
}
