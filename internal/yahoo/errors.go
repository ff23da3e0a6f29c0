package yahoo

import (
	"errors"
	"fmt"
	"time"
)

// Errors a caller tests with errors.Is to decide not to retry. Transient
// failures are returned as a *TransientError instead.
var (
	// ErrNotFound: the ticker is unknown or has no data in the range.
	ErrNotFound = errors.New("yahoo: no data found")
	// ErrBadRequest: Yahoo refused the request (a 4xx other than 404 and
	// 429, or an error object other than "Not Found").
	ErrBadRequest = errors.New("yahoo: bad request")
	// ErrBadResponse: the answer was complete but not a usable chart
	// (invalid JSON, arrays of different lengths, unexpected status).
	ErrBadResponse = errors.New("yahoo: bad response")
	// ErrInvalidInput: the arguments were rejected before any request.
	ErrInvalidInput = errors.New("yahoo: invalid input")
)

// TransientError is a failure worth retrying later: HTTP 429, a 5xx, a
// network error or a truncated body. Retrying is the caller's policy; the
// client never retries.
type TransientError struct {
	Ticker string
	// URL is the request URL without credentials.
	URL string
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// RetryAfter is the server's Retry-After delay, 0 when not given.
	RetryAfter time.Duration
	Err        error
}

func (e *TransientError) Error() string {
	msg := fmt.Sprintf("yahoo %s: GET %s: transient", e.Ticker, e.URL)
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg + ": " + e.Err.Error()
}

func (e *TransientError) Unwrap() error { return e.Err }

// IsTransient reports whether err is, or wraps, a *TransientError.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}
