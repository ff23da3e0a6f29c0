package yahoo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// maxBodyBytes caps a chart answer (decades of daily bars are a few MB).
	maxBodyBytes = 32 << 20
	// maxErrorBodyBytes caps what is read of an error answer.
	maxErrorBodyBytes = 64 << 10
)

// errTruncated marks a body that ended early: worth retrying.
var errTruncated = errors.New("response body truncated")

// requestURL is a chart request: the URL sent and the one shown in errors
// (no credentials, no query parameters but the client's own).
type requestURL struct {
	send, shown string
}

// chartURL builds the chart request for days [from, to) (midnight UTC).
func chartURL(base, ticker string, from, to time.Time) (requestURL, error) {
	u, err := url.Parse(base)
	if err != nil {
		// The parse error repeats the URL, which may hold credentials.
		return requestURL{}, fmt.Errorf("%w: base URL does not parse", ErrInvalidInput)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return requestURL{}, fmt.Errorf("%w: base URL %q is not an http(s) URL", ErrInvalidInput, u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v8/finance/chart/" + ticker
	u.RawPath = ""
	u.Fragment = ""
	own := url.Values{
		"period1":              {strconv.FormatInt(from.Unix(), 10)},
		"period2":              {strconv.FormatInt(to.Unix(), 10)},
		"interval":             {"1d"},
		"events":               {"history"},
		"includeAdjustedClose": {"true"},
	}
	q := u.Query()
	for k, v := range own {
		q[k] = v
	}
	send := *u
	send.RawQuery = q.Encode()
	shown := *u
	shown.User = nil
	shown.RawQuery = own.Encode()
	return requestURL{send: send.String(), shown: shown.String()}, nil
}

// fail wraps err with the ticker and URL; a truncated body becomes a
// *TransientError.
func (u requestURL) fail(ticker string, status int, err error) error {
	if errors.Is(err, errTruncated) {
		return &TransientError{Ticker: ticker, URL: u.shown, StatusCode: status, Err: err}
	}
	return fmt.Errorf("yahoo %s: GET %s: %w", ticker, u.shown, err)
}

// fetch sends the request and returns the status and body of a 2xx
// answer; any other answer becomes a typed error.
func (c *Client) fetch(ctx context.Context, ticker string, u requestURL) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.send, nil)
	if err != nil {
		return 0, nil, u.fail(ticker, 0, fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, u.fail(ticker, 0, ctx.Err())
		}
		return 0, nil, &TransientError{Ticker: ticker, URL: u.shown, Err: withoutURL(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		body, err := readBody(ctx, resp.Body)
		if err != nil {
			return resp.StatusCode, nil, u.fail(ticker, resp.StatusCode, err)
		}
		return resp.StatusCode, body, nil
	}
	return resp.StatusCode, nil, u.statusError(ticker, resp)
}

// readBody reads a success body; an early end is errTruncated.
func readBody(ctx context.Context, r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxBodyBytes+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, fmt.Errorf("%w: %v", errTruncated, err)
	case len(body) > maxBodyBytes:
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrBadResponse, maxBodyBytes)
	}
	return body, nil
}

// statusError classifies a non-2xx answer.
func (u requestURL) statusError(ticker string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	msg := "HTTP " + resp.Status
	if d := errorDescription(body); d != "" {
		msg += ": " + d
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests || code >= 500:
		return &TransientError{
			Ticker: ticker, URL: u.shown, StatusCode: code,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Err:        errors.New(msg),
		}
	case code == http.StatusNotFound:
		return u.fail(ticker, code, fmt.Errorf("%w: %s", ErrNotFound, msg))
	case code >= 400:
		return u.fail(ticker, code, fmt.Errorf("%w: %s", ErrBadRequest, msg))
	}
	return u.fail(ticker, code, fmt.Errorf("%w: unexpected %s", ErrBadResponse, msg))
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// withoutURL drops the *url.Error wrapper, whose message repeats the full
// request URL (and so any query parameter of the base URL).
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
