package prep

import (
	"math"

	"github.com/finsight/finsight/internal/frame"
)

// FillReport counts what forward-filling changed.
type FillReport struct {
	Filled      int `json:"filled"`       // values taken from an earlier row
	DroppedLead int `json:"dropped_lead"` // leading rows with nothing earlier to fill from
}

// ForwardFill replaces each missing value with the last known value of its
// column. carry holds the last known values from the previous split (nil for
// the first), so validation and test are filled from the past only. Leading
// rows that still miss a value are dropped. It returns the filled bars, the
// values to carry into the next split, and what it did.
func ForwardFill(b *frame.Bars, carry []float64) (*frame.Bars, []float64, FillReport) {
	out := b.Slice(0, b.Len())
	cols := columns(out)
	last := make([]float64, len(cols))
	for i := range last {
		last[i] = math.NaN()
		if carry != nil {
			last[i] = carry[i]
		}
	}
	var rep FillReport
	for r := 0; r < out.Len(); r++ {
		for c, col := range cols {
			if math.IsNaN(col[r]) {
				if !math.IsNaN(last[c]) {
					col[r] = last[c]
					rep.Filled++
				}
				continue
			}
			last[c] = col[r]
		}
	}
	start := 0
	for start < out.Len() && rowHasNaN(cols, start) {
		start++
	}
	rep.DroppedLead = start
	if start > 0 {
		out = out.Slice(start, out.Len())
	}
	return out, last, rep
}

func columns(b *frame.Bars) [][]float64 {
	return [][]float64{b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume}
}

func rowHasNaN(cols [][]float64, r int) bool {
	for _, c := range cols {
		if math.IsNaN(c[r]) {
			return true
		}
	}
	return false
}
