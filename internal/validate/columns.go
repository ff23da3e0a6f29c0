package validate

import (
	"math"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// Column names, as in frame's Arrow files; the ret_ columns are daily
// log-returns of a price column.
const (
	ColumnDate        = "date"
	ColumnOpen        = "open"
	ColumnHigh        = "high"
	ColumnLow         = "low"
	ColumnClose       = "close"
	ColumnAdjClose    = "adj_close"
	ColumnVolume      = "volume"
	ColumnReturnClose = "ret_close"
	ColumnReturnOpen  = "ret_open"
)

// dateLayout formats anomaly and schema dates.
const dateLayout = frame.DateLayout

// column is one float column of bars.
type column struct {
	name   string
	values []float64
}

// valueColumns returns the float columns of b in schema order.
func valueColumns(b *frame.Bars) [6]column {
	return [6]column{
		{ColumnOpen, b.Open},
		{ColumnHigh, b.High},
		{ColumnLow, b.Low},
		{ColumnClose, b.Close},
		{ColumnAdjClose, b.AdjClose},
		{ColumnVolume, b.Volume},
	}
}

// returnColumns returns the price columns whose log-returns are described
// and checked, named by their return column.
func returnColumns(b *frame.Bars) [2]column {
	return [2]column{
		{ColumnReturnClose, b.Close},
		{ColumnReturnOpen, b.Open},
	}
}

// priceColumnOf names the price column behind a return column.
func priceColumnOf(ret string) string {
	if ret == ColumnReturnOpen {
		return ColumnOpen
	}
	return ColumnClose
}

// isMissing reports a missing value: NaN, or ±Inf (which no source writes
// for a real price and JSON cannot carry).
func isMissing(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// validPrice reports a price a return can be taken from.
func validPrice(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// appendLogReturns appends log(v[i]/v[j]) for each valid price v[i] whose
// nearest earlier valid price is v[j] (a missing row between them does not
// hide a jump).
func appendLogReturns(dst, v []float64) []float64 {
	prev := math.NaN()
	for _, x := range v {
		if !validPrice(x) {
			continue
		}
		if prev > 0 {
			dst = append(dst, math.Log(x/prev))
		}
		prev = x
	}
	return dst
}

// dayNumber is the UTC calendar day of t, counted from 1970-01-01.
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// weekdayOf returns the weekday of a day number (1970-01-01 was a Thursday).
func weekdayOf(day int64) time.Weekday {
	return time.Weekday(((day+4)%7 + 7) % 7)
}

// dateOf returns the time of a day number (UTC midnight).
func dateOf(day int64) time.Time { return time.Unix(day*86400, 0).UTC() }

// isWeekend reports Saturday and Sunday.
func isWeekend(wd time.Weekday) bool { return wd == time.Saturday || wd == time.Sunday }
