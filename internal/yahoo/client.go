// Package yahoo downloads daily price history from the Yahoo Finance chart
// API into frame.Bars and writes it as a Yahoo-style CSV.
//
// The client never retries: failures worth retrying are returned as a
// *TransientError, the rest wrap ErrNotFound, ErrBadRequest, ErrBadResponse
// or ErrInvalidInput, so the caller's retry policy decides.
package yahoo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// DefaultBaseURL is used when Client.BaseURL is empty.
const DefaultBaseURL = "https://query1.finance.yahoo.com"

// defaultTimeout bounds a request when Client.HTTP is nil.
const defaultTimeout = time.Minute

// Client fetches daily bars. The zero value talks to DefaultBaseURL with a
// one-minute timeout and Go's default User-Agent (which Yahoo may refuse:
// set UserAgent).
type Client struct {
	// BaseURL is scheme://host[/prefix] of the API.
	BaseURL string
	// HTTP sends the requests; nil means a client with a one-minute timeout.
	HTTP *http.Client
	// UserAgent is sent when non-empty.
	UserAgent string
}

// Daily returns ticker's daily bars for the calendar days from start to end,
// both inclusive (each day taken in its time.Time's own location). Bars.Date
// holds each bar's date on the exchange's local calendar, at midnight UTC;
// null values become NaN.
func (c *Client) Daily(ctx context.Context, ticker string, start, end time.Time) (*frame.Bars, error) {
	ticker = strings.TrimSpace(ticker)
	first, last, err := checkInput(ticker, start, end)
	if err != nil {
		return nil, err
	}
	// Ask for a day more on each side: a bar's timestamp may fall on
	// another UTC day than its exchange date. Rows outside are dropped.
	u, err := chartURL(c.baseURL(), ticker, first.AddDate(0, 0, -1), last.AddDate(0, 0, 2))
	if err != nil {
		return nil, fmt.Errorf("yahoo %s: %w", ticker, err)
	}
	status, body, err := c.fetch(ctx, ticker, u)
	if err != nil {
		return nil, err
	}
	bars, err := decodeChart(body, ticker, first, last)
	if err != nil {
		return nil, u.fail(ticker, status, err)
	}
	return bars, nil
}

// checkInput validates the arguments and returns the first and last
// calendar days asked for, at midnight UTC.
func checkInput(ticker string, start, end time.Time) (first, last time.Time, err error) {
	switch {
	case ticker == "":
		return first, last, fmt.Errorf("yahoo: %w: empty ticker", ErrInvalidInput)
	case strings.ContainsAny(ticker, "/?#% \t\r\n"):
		return first, last, fmt.Errorf("yahoo %q: %w: ticker has a character not allowed", ticker, ErrInvalidInput)
	case start.IsZero() || !start.Before(end):
		return first, last, fmt.Errorf("yahoo %s: %w: start %s is not before end %s", ticker, ErrInvalidInput, start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	first, last = calendarDay(start), calendarDay(end)
	if last.Before(first) {
		return first, last, fmt.Errorf("yahoo %s: %w: start day %s is after end day %s", ticker, ErrInvalidInput, first.Format(frame.DateLayout), last.Format(frame.DateLayout))
	}
	return first, last, nil
}

// calendarDay returns t's date in its own location, at midnight UTC.
func calendarDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (c *Client) baseURL() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return c.BaseURL
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: defaultTimeout}
	}
	return c.HTTP
}
