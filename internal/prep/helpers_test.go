package prep_test

import (
	"math"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

var nan = math.NaN()

// day0 is a Monday; row i of test bars is dated day0 + i days.
var day0 = time.Date(2020, 1, 6, 0, 0, 0, 0, time.UTC)

// seqBars returns n rows whose Open is 1..n and whose other columns are
// derived from it, so every row is distinguishable.
func seqBars(n int) *frame.Bars {
	b := &frame.Bars{Ticker: "TEST"}
	for i := 0; i < n; i++ {
		v := float64(i + 1)
		b.Date = append(b.Date, day0.AddDate(0, 0, i))
		b.Open = append(b.Open, v)
		b.High = append(b.High, v+0.5)
		b.Low = append(b.Low, v-0.5)
		b.Close = append(b.Close, v+0.25)
		b.AdjClose = append(b.AdjClose, v+0.2)
		b.Volume = append(b.Volume, 1000*v)
	}
	return b
}

// sameFloats compares slices treating NaN as equal to NaN.
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

// walkBars returns n rows of a smooth deterministic walk: Open has daily
// log-returns 0.001 + 0.004·sin(1.3·i) from 100, High, Low, Close and
// AdjClose are fixed multiples of Open (so every price column has the same
// log-returns), and Volume swings around one million.
func walkBars(n int) *frame.Bars {
	b := &frame.Bars{Ticker: "WALK"}
	lp := math.Log(100)
	for i := 0; i < n; i++ {
		if i > 0 {
			lp += 0.001 + 0.004*math.Sin(1.3*float64(i))
		}
		p := math.Exp(lp)
		b.Date = append(b.Date, day0.AddDate(0, 0, i))
		b.Open = append(b.Open, p)
		b.High = append(b.High, 1.01*p)
		b.Low = append(b.Low, 0.99*p)
		b.Close = append(b.Close, 1.002*p)
		b.AdjClose = append(b.AdjClose, 0.98*p)
		b.Volume = append(b.Volume, math.Round(1e6*(1+0.3*math.Sin(0.7*float64(i)))))
	}
	return b
}

// near reports whether a and b agree to a relative tolerance.
func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}
