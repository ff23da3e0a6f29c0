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
