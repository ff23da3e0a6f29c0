// Package frame holds daily price bars and model windows, parses bar CSVs
// and stores both as Arrow IPC files.
package frame

import (
	"fmt"
	"time"
)

// Bars is one ticker's daily price history, in file order. math.NaN()
// marks a missing value.
type Bars struct {
	Ticker string
	Date   []time.Time // UTC midnight
	Open   []float64
	High   []float64
	Low    []float64
	Close  []float64
	// AdjClose is the split/dividend-adjusted close (Close when the source
	// has none).
	AdjClose []float64
	Volume   []float64
}

// newBars returns empty bars with room for n rows.
func newBars(ticker string, n int) *Bars {
	return &Bars{
		Ticker:   ticker,
		Date:     make([]time.Time, 0, n),
		Open:     make([]float64, 0, n),
		High:     make([]float64, 0, n),
		Low:      make([]float64, 0, n),
		Close:    make([]float64, 0, n),
		AdjClose: make([]float64, 0, n),
		Volume:   make([]float64, 0, n),
	}
}

// Len returns the number of rows.
func (b *Bars) Len() int { return len(b.Date) }

// Slice returns a copy of rows [i, j).
func (b *Bars) Slice(i, j int) *Bars {
	return &Bars{
		Ticker:   b.Ticker,
		Date:     append([]time.Time(nil), b.Date[i:j]...),
		Open:     append([]float64(nil), b.Open[i:j]...),
		High:     append([]float64(nil), b.High[i:j]...),
		Low:      append([]float64(nil), b.Low[i:j]...),
		Close:    append([]float64(nil), b.Close[i:j]...),
		AdjClose: append([]float64(nil), b.AdjClose[i:j]...),
		Volume:   append([]float64(nil), b.Volume[i:j]...),
	}
}

// columns returns the float columns in schema order, paired with their
// Arrow field names.
func (b *Bars) columns() []namedColumn {
	return []namedColumn{
		{"open", &b.Open},
		{"high", &b.High},
		{"low", &b.Low},
		{"close", &b.Close},
		{"adj_close", &b.AdjClose},
		{"volume", &b.Volume},
	}
}

type namedColumn struct {
	name   string
	values *[]float64
}

// validate checks that every column has one value per date.
func (b *Bars) validate() error {
	for _, c := range b.columns() {
		if len(*c.values) != len(b.Date) {
			return fmt.Errorf("bars %s: column %s has %d values, want %d", b.Ticker, c.name, len(*c.values), len(b.Date))
		}
	}
	return nil
}
