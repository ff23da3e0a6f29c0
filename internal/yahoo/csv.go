package yahoo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/finsight/finsight/internal/frame"
)

// CSVHeader is the header line WriteCSV writes (Yahoo's download format).
const CSVHeader = "Date,Open,High,Low,Close,Adj Close,Volume"

// WriteCSV writes b as a Yahoo CSV: CSVHeader, then one row per bar with
// the date as YYYY-MM-DD (UTC) and "null" for NaN, so frame.ParseCSV reads
// back the same bars. Infinite values are rejected.
func WriteCSV(w io.Writer, b *frame.Bars) error {
	if err := checkWritable(b); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader + "\n")
	var line []byte
	for i, d := range b.Date {
		line = d.UTC().AppendFormat(line[:0], frame.DateLayout)
		for _, col := range [][]float64{b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume} {
			line = append(line, ',')
			line = appendValue(line, col[i])
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write csv %s: %w", b.Ticker, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv %s: %w", b.Ticker, err)
	}
	return nil
}

// checkWritable rejects nil or empty bars, ragged columns and infinities.
func checkWritable(b *frame.Bars) error {
	if b == nil {
		return errors.New("write csv: nil bars")
	}
	if b.Len() == 0 {
		return fmt.Errorf("write csv %s: no rows", b.Ticker)
	}
	cols := []struct {
		name   string
		values []float64
	}{{"Open", b.Open}, {"High", b.High}, {"Low", b.Low}, {"Close", b.Close}, {"Adj Close", b.AdjClose}, {"Volume", b.Volume}}
	for _, c := range cols {
		name, col := c.name, c.values
		if len(col) != b.Len() {
			return fmt.Errorf("write csv %s: column %s has %d values for %d dates", b.Ticker, name, len(col), b.Len())
		}
		for i, v := range col {
			if math.IsInf(v, 0) {
				return fmt.Errorf("write csv %s: %s on %s is infinite", b.Ticker, name, b.Date[i].UTC().Format(frame.DateLayout))
			}
		}
	}
	return nil
}

// appendValue appends v in the shortest form that parses back exactly,
// without an exponent, or "null" for NaN.
func appendValue(dst []byte, v float64) []byte {
	if math.IsNaN(v) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}
