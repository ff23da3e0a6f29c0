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
	// Breaks lists, in increasing order, the rows right after rows that a
	// cleaning step dropped: a window must not span one.
	Breaks []int
	// Lineage says what the bars were derived from (free-form JSON set by
	// the step that wrote them); it travels in the Arrow file's metadata.
	Lineage string
}

// NewBars returns empty bars with room for n rows.
func NewBars(ticker string, n int) *Bars {
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

// AppendRow appends row r of src (every column) to b.
func (b *Bars) AppendRow(src *Bars, r int) {
	b.Date = append(b.Date, src.Date[r])
	b.Open = append(b.Open, src.Open[r])
	b.High = append(b.High, src.High[r])
	b.Low = append(b.Low, src.Low[r])
	b.Close = append(b.Close, src.Close[r])
	b.AdjClose = append(b.AdjClose, src.AdjClose[r])
	b.Volume = append(b.Volume, src.Volume[r])
}

// Len returns the number of rows.
func (b *Bars) Len() int { return len(b.Date) }

// Slice returns a copy of rows [i, j).
func (b *Bars) Slice(i, j int) *Bars {
	var breaks []int
	for _, r := range b.Breaks {
		if r > i && r < j {
			breaks = append(breaks, r-i)
		}
	}
	return &Bars{
		Ticker:   b.Ticker,
		Breaks:   breaks,
		Lineage:  b.Lineage,
		Date:     append([]time.Time(nil), b.Date[i:j]...),
		Open:     append([]float64(nil), b.Open[i:j]...),
		High:     append([]float64(nil), b.High[i:j]...),
		Low:      append([]float64(nil), b.Low[i:j]...),
		Close:    append([]float64(nil), b.Close[i:j]...),
		AdjClose: append([]float64(nil), b.AdjClose[i:j]...),
		Volume:   append([]float64(nil), b.Volume[i:j]...),
	}
}

// Segments returns [start, end) row ranges with no break inside.
func (b *Bars) Segments() [][2]int {
	var out [][2]int
	start := 0
	for _, r := range b.Breaks {
		if r > start && r <= b.Len() {
			out = append(out, [2]int{start, r})
			start = r
		}
	}
	if start < b.Len() {
		out = append(out, [2]int{start, b.Len()})
	}
	return out
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

// reverse turns the rows around in place.
func (b *Bars) reverse() {
	for _, col := range [][]float64{b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume} {
		for i, j := 0, len(col)-1; i < j; i, j = i+1, j-1 {
			col[i], col[j] = col[j], col[i]
		}
	}
	for i, j := 0, len(b.Date)-1; i < j; i, j = i+1, j-1 {
		b.Date[i], b.Date[j] = b.Date[j], b.Date[i]
	}
}
