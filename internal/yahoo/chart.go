package yahoo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// chartEnvelope is the chart API answer.
type chartEnvelope struct {
	Chart struct {
		Result []chartResult `json:"result"`
		Error  *chartError   `json:"error"`
	} `json:"chart"`
}

type chartError struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

type chartResult struct {
	Meta       chartMeta `json:"meta"`
	Timestamp  []int64   `json:"timestamp"`
	Indicators struct {
		Quote    []chartQuote `json:"quote"`
		AdjClose []struct {
			AdjClose []*float64 `json:"adjclose"`
		} `json:"adjclose"`
	} `json:"indicators"`
}

type chartMeta struct {
	Symbol               string `json:"symbol"`
	ExchangeTimezoneName string `json:"exchangeTimezoneName"`
	GMTOffset            int    `json:"gmtoffset"`
}

// chartQuote holds one value per timestamp; null is nil.
type chartQuote struct {
	Open   []*float64 `json:"open"`
	High   []*float64 `json:"high"`
	Low    []*float64 `json:"low"`
	Close  []*float64 `json:"close"`
	Volume []*float64 `json:"volume"`
}

// parseEnvelope decodes a whole body; one that ends inside the JSON value
// is errTruncated, anything else invalid is ErrBadResponse.
func parseEnvelope(body []byte) (chartEnvelope, error) {
	var env chartEnvelope
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return env, fmt.Errorf("%w: %d bytes end inside the JSON", errTruncated, len(body))
		}
		return env, fmt.Errorf("%w: decode chart JSON: %v", ErrBadResponse, err)
	}
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return env, fmt.Errorf("%w: %d bytes after the chart JSON", ErrBadResponse, len(rest))
	}
	return env, nil
}

// errorDescription returns the chart.error of an error body, or "".
func errorDescription(body []byte) string {
	var env chartEnvelope
	if json.Unmarshal(body, &env) != nil || env.Chart.Error == nil {
		return ""
	}
	e := env.Chart.Error
	return strings.TrimSpace(e.Code + ": " + e.Description)
}

// decodeChart parses a chart answer into bars dated first..last inclusive.
func decodeChart(body []byte, ticker string, first, last time.Time) (*frame.Bars, error) {
	env, err := parseEnvelope(body)
	if err != nil {
		return nil, err
	}
	if e := env.Chart.Error; e != nil {
		if strings.EqualFold(e.Code, "Not Found") {
			return nil, fmt.Errorf("%w: %s: %s", ErrNotFound, e.Code, e.Description)
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrBadRequest, e.Code, e.Description)
	}
	if len(env.Chart.Result) == 0 || len(env.Chart.Result[0].Timestamp) == 0 {
		return nil, fmt.Errorf("%w: no bars between %s and %s", ErrNotFound, first.Format(frame.DateLayout), last.Format(frame.DateLayout))
	}
	return env.Chart.Result[0].bars(ticker, first, last)
}

// bars converts the result, keeping days first..last. When two timestamps
// fall on one exchange day (Yahoo's live bar beside the day's bar) the
// later wins.
func (r *chartResult) bars(ticker string, first, last time.Time) (*frame.Bars, error) {
	cols, err := r.columns()
	if err != nil {
		return nil, err
	}
	loc := r.Meta.location()
	b := &frame.Bars{Ticker: ticker}
	for i, ts := range r.Timestamp {
		if i > 0 && ts <= r.Timestamp[i-1] {
			return nil, fmt.Errorf("%w: timestamp[%d] = %d is not after timestamp[%d] = %d", ErrBadResponse, i, ts, i-1, r.Timestamp[i-1])
		}
		day := calendarDay(time.Unix(ts, 0).In(loc))
		if day.Before(first) || day.After(last) {
			continue
		}
		if n := b.Len(); n > 0 && b.Date[n-1].Equal(day) {
			dropLastRow(b)
		}
		b.Date = append(b.Date, day)
		b.Open = append(b.Open, value(cols[0], i))
		b.High = append(b.High, value(cols[1], i))
		b.Low = append(b.Low, value(cols[2], i))
		b.Close = append(b.Close, value(cols[3], i))
		b.AdjClose = append(b.AdjClose, value(cols[4], i))
		b.Volume = append(b.Volume, value(cols[5], i))
	}
	if b.Len() == 0 {
		return nil, fmt.Errorf("%w: no bars between %s and %s", ErrNotFound, first.Format(frame.DateLayout), last.Format(frame.DateLayout))
	}
	return b, nil
}

// columns returns open, high, low, close, adjclose and volume, checking
// each has one value per timestamp. A missing adjclose is the close.
func (r *chartResult) columns() ([6][]*float64, error) {
	var cols [6][]*float64
	if len(r.Indicators.Quote) == 0 {
		return cols, fmt.Errorf("%w: indicators.quote is missing", ErrBadResponse)
	}
	q := r.Indicators.Quote[0]
	cols = [6][]*float64{q.Open, q.High, q.Low, q.Close, q.Close, q.Volume}
	if len(r.Indicators.AdjClose) > 0 {
		cols[4] = r.Indicators.AdjClose[0].AdjClose
	}
	names := [6]string{"quote.open", "quote.high", "quote.low", "quote.close", "adjclose.adjclose", "quote.volume"}
	for i, c := range cols {
		if len(c) != len(r.Timestamp) {
			return cols, fmt.Errorf("%w: indicators.%s has %d values for %d timestamps", ErrBadResponse, names[i], len(c), len(r.Timestamp))
		}
	}
	return cols, nil
}

// location is the exchange's time zone: its IANA name when this system
// knows it, else the fixed gmtoffset (right to the day for daily bars,
// stamped during trading hours).
func (m chartMeta) location() *time.Location {
	if m.ExchangeTimezoneName != "" {
		if loc, err := time.LoadLocation(m.ExchangeTimezoneName); err == nil {
			return loc
		}
	}
	return time.FixedZone("gmtoffset", m.GMTOffset)
}

func value(col []*float64, i int) float64 {
	if col[i] == nil {
		return math.NaN()
	}
	return *col[i]
}

func dropLastRow(b *frame.Bars) {
	n := b.Len() - 1
	b.Date = b.Date[:n]
	b.Open, b.High, b.Low = b.Open[:n], b.High[:n], b.Low[:n]
	b.Close, b.AdjClose, b.Volume = b.Close[:n], b.AdjClose[:n], b.Volume[:n]
}
