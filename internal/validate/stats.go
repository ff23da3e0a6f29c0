package validate

import (
	"math"
	"slices"
	"sort"

	"github.com/finsight/finsight/internal/frame"
)

// sketchSize is the number of evenly spaced quantiles kept of each return
// column (every 0.5%): enough to run the KS and JS drift checks against
// training without keeping its returns (the CDF is off by at most 1/200).
const sketchSize = 201

// madScale turns a median absolute deviation into a normal-consistent
// standard deviation.
const madScale = 1.4826

// Stats describes one split, per column. It is persisted as JSON.
type Stats struct {
	Ticker    string        `json:"ticker"`
	Rows      int           `json:"rows"`
	FirstDate string        `json:"first_date"`
	LastDate  string        `json:"last_date"`
	Columns   []ColumnStats `json:"columns"`
}

// ColumnStats describes the present values of one column (or the
// log-returns of one price column). Missing counts absent values (for a
// return column: rows without a valid price). With Count 0 every number is
// 0; Std is the sample standard deviation (0 below 2 values). Quantiles
// interpolate linearly between order statistics. MAD is the median
// absolute deviation from the median. Quantiles holds, for return columns
// only, sketchSize evenly spaced quantiles from min to max.
type ColumnStats struct {
	Name      string    `json:"name"`
	Count     int       `json:"count"`
	Missing   int       `json:"missing"`
	Mean      float64   `json:"mean"`
	Std       float64   `json:"std"`
	Min       float64   `json:"min"`
	Q25       float64   `json:"q25"`
	Median    float64   `json:"median"`
	Q75       float64   `json:"q75"`
	Max       float64   `json:"max"`
	MAD       float64   `json:"mad"`
	Histogram Histogram `json:"histogram"`
	Quantiles []float64 `json:"quantiles,omitempty"`
}

// Histogram counts values in bins of equal width between the column's min
// and max: bin i is [Edges[i], Edges[i+1]), the last one closed. When all
// values are equal they are all in the first bin.
type Histogram struct {
	Edges  []float64 `json:"edges"`
	Counts []int     `json:"counts"`
}

// Column returns the statistics of the named column.
func (s Stats) Column(name string) (ColumnStats, bool) {
	for _, c := range s.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return ColumnStats{}, false
}

// Describe computes the statistics of every price column, volume, and the
// daily log-returns of Close and Open, with bins histogram bins (the
// default when bins < 1).
func Describe(b *frame.Bars, bins int) Stats {
	if bins < 1 {
		bins = DefaultConfig().Bins
	}
	s := Stats{Ticker: b.Ticker, Rows: b.Len()}
	if b.Len() > 0 {
		s.FirstDate = b.Date[0].Format(dateLayout)
		s.LastDate = b.Date[b.Len()-1].Format(dateLayout)
	}
	buf := make([]float64, 0, b.Len())
	for _, c := range valueColumns(b) {
		buf = appendPresent(buf[:0], c.values)
		cs := describeSorted(c.name, sortedInPlace(buf), bins)
		cs.Missing = len(c.values) - cs.Count
		s.Columns = append(s.Columns, cs)
	}
	for _, c := range returnColumns(b) {
		buf = appendLogReturns(buf[:0], c.values)
		cs := describeSorted(c.name, sortedInPlace(buf), bins)
		cs.Missing = countInvalidPrices(c.values)
		cs.MAD = medianAbsDeviationSorted(buf, cs.Median)
		cs.Quantiles = quantileSketch(buf, sketchSize)
		s.Columns = append(s.Columns, cs)
	}
	return s
}

// describeSorted computes the statistics of sorted values (no NaN).
func describeSorted(name string, sorted []float64, bins int) ColumnStats {
	cs := ColumnStats{Name: name, Count: len(sorted)}
	if len(sorted) == 0 {
		return cs
	}
	cs.Mean, cs.Std = meanStd(sorted)
	cs.Min, cs.Max = sorted[0], sorted[len(sorted)-1]
	cs.Q25 = quantileSorted(sorted, 0.25)
	cs.Median = quantileSorted(sorted, 0.5)
	cs.Q75 = quantileSorted(sorted, 0.75)
	cs.Histogram = histogramSorted(sorted, bins)
	return cs
}

// meanStd returns the mean and the sample standard deviation (0 for fewer
// than two values), in two passes for accuracy.
func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return 0, 0
	}
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	mean = sum / float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	ss := 0.0
	for _, x := range v {
		d := x - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}

// quantileSorted interpolates the q-quantile of sorted values linearly
// between order statistics (type 7, as NumPy's default).
func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// histogramSorted bins sorted values into bins of equal width over
// [min, max].
func histogramSorted(sorted []float64, bins int) Histogram {
	lo, hi := sorted[0], sorted[len(sorted)-1]
	h := Histogram{Edges: make([]float64, bins+1), Counts: make([]int, bins)}
	width := (hi - lo) / float64(bins)
	for i := range h.Edges {
		h.Edges[i] = lo + width*float64(i)
	}
	h.Edges[bins] = hi
	for _, v := range sorted {
		i := 0
		if width > 0 {
			i = min(int((v-lo)/width), bins-1)
		}
		h.Counts[i]++
	}
	return h
}

// medianAbsDeviationSorted returns the median of |v − median| for sorted
// v. The deviations form two sorted runs (falling below the median, rising
// from it), so merging them from the median outwards finds their median
// in linear time, without sorting.
func medianAbsDeviationSorted(v []float64, median float64) float64 {
	n := len(v)
	if n == 0 {
		return 0
	}
	l := sort.SearchFloat64s(v, median) - 1 // below the median, walking down
	r := l + 1                              // at or above it, walking up
	next := func() float64 {
		if r >= n || (l >= 0 && median-v[l] <= v[r]-median) {
			l--
			return median - v[l+1]
		}
		r++
		return v[r-1] - median
	}
	for range (n - 1) / 2 {
		next()
	}
	d := next()
	if n%2 == 0 {
		d += (next() - d) / 2 // as quantileSorted interpolates
	}
	return d
}

// quantileSketch returns n evenly spaced quantiles (0, 1/(n-1), ..., 1) of
// sorted values, or nil when there are none.
func quantileSketch(sorted []float64, n int) []float64 {
	if len(sorted) == 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = quantileSorted(sorted, float64(i)/float64(n-1))
	}
	return out
}

// appendPresent appends the values that are not missing.
func appendPresent(dst, v []float64) []float64 {
	for _, x := range v {
		if !isMissing(x) {
			dst = append(dst, x)
		}
	}
	return dst
}

// countInvalidPrices counts the values a return cannot be taken from.
func countInvalidPrices(v []float64) int {
	n := 0
	for _, x := range v {
		if !validPrice(x) {
			n++
		}
	}
	return n
}

// sortedInPlace sorts v and returns it.
func sortedInPlace(v []float64) []float64 {
	slices.Sort(v)
	return v
}
