package frame

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// DateLayout is the date format of bar CSVs.
const DateLayout = "2006-01-02"

// expectedRows preallocates for about 40 years of trading days, so typical
// files parse without growing the slices.
const expectedRows = 10240

// columnRole maps a lower-cased header name of the supported formats to its
// column role, or "" for unknown columns. Yahoo:
// Date,Open,High,Low,Close,Adj Close,Volume. Kaggle:
// date,open,high,low,close,volume,Name.
func columnRole(header string) string {
	switch header {
	case "date", "open", "high", "low", "close", "volume", "name":
		return header
	case "adj close", "adj_close", "adjclose":
		return "adj_close"
	}
	return ""
}

// csvLayout holds the column index of each role; -1 when absent.
type csvLayout struct {
	date, open, high, low, close, adjClose, volume, name int
}

// ParseCSV reads daily bars from a Yahoo or Kaggle CSV. Header names match
// case-insensitively in any order. Empty fields and "null" are missing
// values (NaN). If ticker is empty it is taken from the Name column (and
// stays empty without one); rows whose Name differs from the ticker are an
// error.
func ParseCSV(r io.Reader, ticker string) (*Bars, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("parse csv: empty file")
	}
	if err != nil {
		return nil, fmt.Errorf("parse csv header: %w", err)
	}
	layout, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	b := NewBars(ticker, expectedRows)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if err := layout.appendRow(b, rec); err != nil {
			return nil, fmt.Errorf("parse csv line %d: %w", line, err)
		}
	}
	if b.Len() == 0 {
		return nil, errors.New("parse csv: no rows after the header")
	}
	return b, nil
}

func parseHeader(header []string) (csvLayout, error) {
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if role := columnRole(h); role != "" {
			idx[role] = i
		}
	}
	for _, role := range []string{"date", "open", "high", "low", "close", "volume"} {
		if _, ok := idx[role]; !ok {
			return csvLayout{}, fmt.Errorf("parse csv line 1: missing required column %q in header %q", role, strings.Join(header, ","))
		}
	}
	at := func(role string) int {
		if i, ok := idx[role]; ok {
			return i
		}
		return -1
	}
	return csvLayout{
		date: at("date"), open: at("open"), high: at("high"), low: at("low"),
		close: at("close"), adjClose: at("adj_close"), volume: at("volume"), name: at("name"),
	}, nil
}

// appendRow parses one record and appends it to b.
func (l csvLayout) appendRow(b *Bars, rec []string) error {
	if err := l.checkTicker(b, rec); err != nil {
		return err
	}
	date, err := parseDate(strings.TrimSpace(rec[l.date]))
	if err != nil {
		return fmt.Errorf("date %q: want YYYY-MM-DD", rec[l.date])
	}
	var v [5]float64
	for i, col := range [5]int{l.open, l.high, l.low, l.close, l.volume} {
		if v[i], err = parseValue(rec[col]); err != nil {
			return err
		}
	}
	adj := v[3]
	if l.adjClose >= 0 {
		if adj, err = parseValue(rec[l.adjClose]); err != nil {
			return err
		}
	}
	b.Date = append(b.Date, date)
	b.Open = append(b.Open, v[0])
	b.High = append(b.High, v[1])
	b.Low = append(b.Low, v[2])
	b.Close = append(b.Close, v[3])
	b.AdjClose = append(b.AdjClose, adj)
	b.Volume = append(b.Volume, v[4])
	return nil
}

// checkTicker takes the ticker from the Name column when b has none, and
// rejects rows of another ticker.
func (l csvLayout) checkTicker(b *Bars, rec []string) error {
	if l.name < 0 {
		return nil
	}
	name := strings.TrimSpace(rec[l.name])
	switch {
	case b.Ticker == "":
		if name == "" {
			return errors.New("empty Name and no ticker given")
		}
		b.Ticker = name
	case !strings.EqualFold(name, b.Ticker):
		return fmt.Errorf("name column %q differs from ticker %q", name, b.Ticker)
	}
	return nil
}

// parseValue parses a number; "" and "null" are missing (NaN).
func parseValue(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "null") {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: %w", s, err)
	}
	return v, nil
}

// parseDate reads YYYY-MM-DD as UTC midnight. Plain digit dates take a fast
// path (time.Parse was a tenth of parsing time); anything else, and any
// impossible date, goes through time.Parse for its checks and errors.
func parseDate(s string) (time.Time, error) {
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, ok1 := digits(s[0:4])
		m, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		if ok1 && ok2 && ok3 && m >= 1 && m <= 12 && d >= 1 && d <= 28 {
			return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Parse(DateLayout, s)
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
