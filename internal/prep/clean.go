package prep

import (
	"fmt"
	"math"

	"github.com/finsight/finsight/internal/frame"
)

// Missing-value strategies.
const (
	MissingFFill       = "ffill"
	MissingInterpolate = "interpolate"
	MissingDrop        = "drop"
)

// CleanSpec says how to treat missing values and outliers. The same spec
// (and the outlier bounds fitted on train) is applied to every split.
type CleanSpec struct {
	Missing  string      `json:"missing"`
	Outliers OutlierSpec `json:"outliers"`
}

// DefaultCleanSpec forward-fills and flags (but keeps) extreme returns.
func DefaultCleanSpec() CleanSpec {
	return CleanSpec{Missing: MissingFFill, Outliers: DefaultOutlierSpec()}
}

// Validate rejects unknown strategies.
func (c CleanSpec) Validate() error {
	switch c.Missing {
	case MissingFFill, MissingInterpolate, MissingDrop:
	default:
		return fmt.Errorf("missing-value strategy %q: want ffill, interpolate or drop", c.Missing)
	}
	return c.Outliers.Validate()
}

// CleanReport counts what cleaning changed in one split.
type CleanReport struct {
	Filled       int       `json:"filled"`       // values forward-filled
	Interpolated int       `json:"interpolated"` // values linearly interpolated
	DroppedRows  int       `json:"dropped_rows"` // rows removed (missing values or outliers)
	Outliers     []Outlier `json:"outliers"`     // extreme returns found
	Clipped      int       `json:"clipped"`      // outlier values replaced by the bound
}

// FillMissing applies the missing-value strategy. carry holds the last
// known values of the previous split (nil for the first). It returns the
// cleaned bars and the values to carry on.
func FillMissing(b *frame.Bars, carry []float64, strategy string) (*frame.Bars, []float64, CleanReport, error) {
	var rep CleanReport
	switch strategy {
	case MissingFFill:
		out, last, fr := ForwardFill(b, carry)
		rep.Filled, rep.DroppedRows = fr.Filled, fr.DroppedLead
		return out, last, rep, nil
	case MissingInterpolate:
		out := b.Slice(0, b.Len())
		for _, col := range columns(out) {
			rep.Interpolated += interpolate(col)
		}
		// Values before the first known one (and after the last) have no
		// two neighbours: forward-fill them from the previous split, then
		// drop what is left.
		filled, last, fr := ForwardFill(out, carry)
		rep.Filled, rep.DroppedRows = fr.Filled, fr.DroppedLead
		return filled, last, rep, nil
	case MissingDrop:
		keep := make([]bool, b.Len())
		cols := columns(b)
		for r := range keep {
			keep[r] = !rowHasNaN(cols, r)
		}
		out := keepRows(b, keep)
		rep.DroppedRows = b.Len() - out.Len()
		return out, lastValues(out, carry), rep, nil
	}
	return nil, nil, rep, fmt.Errorf("missing-value strategy %q: want ffill, interpolate or drop", strategy)
}

// interpolate fills interior NaN runs linearly between known neighbours and
// returns how many values it filled.
func interpolate(col []float64) int {
	n := 0
	prev := -1
	for i, v := range col {
		if math.IsNaN(v) {
			continue
		}
		if prev >= 0 && i-prev > 1 {
			for j := prev + 1; j < i; j++ {
				t := float64(j-prev) / float64(i-prev)
				col[j] = col[prev] + t*(v-col[prev])
				n++
			}
		}
		prev = i
	}
	return n
}

// keepRows copies the rows marked true and records a break wherever rows
// were removed between two kept ones.
func keepRows(b *frame.Bars, keep []bool) *frame.Bars {
	out := &frame.Bars{Ticker: b.Ticker, Lineage: b.Lineage}
	oldBreak := map[int]bool{}
	for _, r := range b.Breaks {
		oldBreak[r] = true
	}
	pendingBreak := false
	for r, k := range keep {
		if oldBreak[r] {
			pendingBreak = true
		}
		if !k {
			pendingBreak = true
			continue
		}
		if pendingBreak && out.Len() > 0 {
			out.Breaks = append(out.Breaks, out.Len())
		}
		pendingBreak = false
		out.AppendRow(b, r)
	}
	return out
}

// lastValues is the last known value of each column, falling back to carry.
func lastValues(b *frame.Bars, carry []float64) []float64 {
	cols := columns(b)
	last := make([]float64, len(cols))
	for c, col := range cols {
		last[c] = math.NaN()
		if carry != nil {
			last[c] = carry[c]
		}
		for r := len(col) - 1; r >= 0; r-- {
			if !math.IsNaN(col[r]) {
				last[c] = col[r]
				break
			}
		}
	}
	return last
}
