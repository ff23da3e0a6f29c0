package prep

import (
	"fmt"
	"math"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// Conflict is a day present in both series with a different value.
type Conflict struct {
	Date   string  `json:"date"`
	Column string  `json:"column"`
	Have   float64 `json:"have"`
	New    float64 `json:"new"`
}

// MergeReport says what a merge took from the new bars.
type MergeReport struct {
	NewRows   int        `json:"new_rows"`  // days the base did not have
	Overlap   int        `json:"overlap"`   // days both had, all agreeing
	Conflicts []Conflict `json:"conflicts"` // days both had, disagreeing (nothing merged)
	First     string     `json:"first_new"` // first new day ("" when none)
}

// priceTolerance is how far (relative) two sources' prices for one day may
// differ and still agree: exports round to 6 decimals or to float32.
const priceTolerance = 1e-6

// Merge returns base with the days of add it does not have, in date order.
// A day both have must agree in every column (prices and volume to a
// relative 1e-6, both missing counts as agreeing); if any day disagrees nothing is merged
// and the report lists the conflicts: a new file never silently overwrites
// a value the model was trained on.
func Merge(base, add *frame.Bars) (*frame.Bars, MergeReport, error) {
	have := make(map[time.Time]int, base.Len())
	for i, d := range base.Date {
		have[d] = i
	}
	var rep MergeReport
	var fresh []int
	for j, d := range add.Date {
		i, ok := have[d]
		if !ok {
			fresh = append(fresh, j)
			continue
		}
		before := len(rep.Conflicts)
		rep.Conflicts = appendConflicts(rep.Conflicts, base, i, add, j)
		if len(rep.Conflicts) == before {
			rep.Overlap++
		}
	}
	if len(rep.Conflicts) > 0 {
		return nil, rep, fmt.Errorf("%d values disagree with data already trained on (first %s %s: %g vs %g)",
			len(rep.Conflicts), rep.Conflicts[0].Date, rep.Conflicts[0].Column, rep.Conflicts[0].Have, rep.Conflicts[0].New)
	}
	rep.NewRows = len(fresh)
	if len(fresh) == 0 {
		return base, rep, nil
	}
	rep.First = add.Date[fresh[0]].Format("2006-01-02")
	return interleave(base, add, fresh), rep, nil
}

// appendConflicts compares row i of a with row j of b column by column.
func appendConflicts(out []Conflict, a *frame.Bars, i int, b *frame.Bars, j int) []Conflict {
	cols := [...]struct {
		name string
		x, y []float64
	}{{"open", a.Open, b.Open}, {"high", a.High, b.High}, {"low", a.Low, b.Low},
		{"close", a.Close, b.Close}, {"adj_close", a.AdjClose, b.AdjClose}, {"volume", a.Volume, b.Volume}}
	for _, c := range cols {
		x, y := c.x[i], c.y[j]
		if agree(x, y) {
			continue
		}
		out = append(out, Conflict{Date: a.Date[i].Format("2006-01-02"), Column: c.name, Have: x, New: y})
	}
	return out
}

func agree(x, y float64) bool {
	if math.IsNaN(x) || math.IsNaN(y) {
		return math.IsNaN(x) && math.IsNaN(y)
	}
	return math.Abs(x-y) <= priceTolerance*math.Max(math.Abs(x), math.Abs(y))+1e-12
}

// interleave returns base plus the rows fresh of add, sorted by date.
func interleave(base, add *frame.Bars, fresh []int) *frame.Bars {
	out := frame.NewBars(base.Ticker, base.Len()+len(fresh))
	i, k := 0, 0
	for i < base.Len() || k < len(fresh) {
		if k == len(fresh) || (i < base.Len() && base.Date[i].Before(add.Date[fresh[k]])) {
			out.AppendRow(base, i)
			i++
			continue
		}
		out.AppendRow(add, fresh[k])
		k++
	}
	return out
}

// TailSplit cuts a merged series for a retrain: the newest Test share of
// the new rows (dated on or after NewFrom) are the test days, the Val share
// before them validates, and everything earlier trains. Validation and
// test begin with Context rows of what precedes them (lookback+horizon-1),
// so their first window forecasts their first day and no window's target
// falls outside its part.
type TailSplit struct {
	NewFrom string  `json:"new_from"` // YYYY-MM-DD
	Val     float64 `json:"val"`
	Test    float64 `json:"test"`
	Context int     `json:"context"`
}

// SplitTail applies s to b.
func SplitTail(b *frame.Bars, s TailSplit) (train, val, test *frame.Bars, err error) {
	from, err := time.Parse("2006-01-02", s.NewFrom)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("new_from: %w", err)
	}
	if s.Val <= 0 || s.Test <= 0 || s.Val+s.Test >= 1 || s.Context < 0 {
		return nil, nil, nil, fmt.Errorf("tail split needs positive val and test shares below 1 together and context ≥ 0, got %+v", s)
	}
	n := b.Len()
	first := n
	for i, d := range b.Date {
		if !d.Before(from) {
			first = i
			break
		}
	}
	nNew := n - first
	nTest, nVal := max(1, int(math.Round(s.Test*float64(nNew)))), max(1, int(math.Round(s.Val*float64(nNew))))
	if nNew < 2 || nTest+nVal > nNew || n-nTest-nVal < 1 {
		return nil, nil, nil, fmt.Errorf("%d new rows (from %s) are too few for a %.0f%% validation and %.0f%% test share", nNew, s.NewFrom, 100*s.Val, 100*s.Test)
	}
	testStart, valStart := n-nTest, n-nTest-nVal
	return b.Slice(0, valStart), b.Slice(max(0, valStart-s.Context), testStart), b.Slice(max(0, testStart-s.Context), n), nil
}
