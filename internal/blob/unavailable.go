package blob

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"cloud.google.com/go/storage"
)

// ErrUnavailable means the store did not answer: a call ran past its
// deadline (see WithDeadlines), the connection was refused or reset, or GCS
// answered 408, 429 or 5xx. It is never returned for an answer the store did
// give (ErrNotFound, ErrExists, ErrPrecondition stay what they are), so a
// caller can tell "the store is down, try later" from "no such object".
// Errors that match it are *UnavailableError values.
var ErrUnavailable = errors.New("blob: store unavailable")

// UnavailableError is an ErrUnavailable with what was being done: errors.Is
// matches ErrUnavailable and the cause (e.g. context.DeadlineExceeded or
// syscall.ECONNREFUSED).
type UnavailableError struct {
	Store  string        // the store's root URI, e.g. gs://bucket/prefix
	Op     string        // get, put, list, ...
	Key    string        // the key or list prefix
	Within time.Duration // the call's deadline when it ran out, else 0
	Cause  error         // what the call failed with
}

func (e *UnavailableError) Error() string {
	msg := "store " + e.Store + " unavailable"
	if e.Within > 0 {
		msg += fmt.Sprintf(" (no answer within %s)", e.Within)
	}
	cause := e.Cause.Error()
	if e.Key == "" || !strings.Contains(cause, e.Key) {
		cause = e.Op + " " + e.Key + ": " + cause
	}
	return msg + ": " + cause
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Cause }

// isOutage reports whether err (from a call whose own deadline did not fire)
// says the store could not be reached or is overloaded, as opposed to an
// answer: refused or reset connections, network timeouts, DNS failures, and
// what the GCS client itself retries (408, 429, 5xx, gRPC Unavailable).
func isOutage(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ETIMEDOUT,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EPIPE} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	return storage.ShouldRetry(err)
}

// classify turns the error of one call into an *UnavailableError when it
// comes from an outage. parent is the caller's context: when the caller gave
// up (cancelled, or its own deadline passed), its error is returned as it is.
// expired is the call's own deadline when it fired, else 0.
func classify(parent context.Context, storeURI, op, key string, expired time.Duration, err error) error {
	switch {
	case err == nil,
		errors.Is(err, ErrUnavailable),
		errors.Is(err, ErrNotFound), errors.Is(err, ErrExists), errors.Is(err, ErrPrecondition),
		parent.Err() != nil:
		return err
	case expired > 0, isOutage(err):
		return &UnavailableError{Store: storeURI, Op: op, Key: key, Within: expired, Cause: err}
	default:
		return err
	}
}
