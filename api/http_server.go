package api

import (
	"net/http"
	"time"
)

// Defaults of HTTPLimits: what NewHTTPServer uses for a zero field.
const (
	// DefaultReadHeaderTimeout bounds reading a request's line and
	// headers: a client that trickles them (slowloris) is cut off.
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included:
	// a 32 MiB upload at about 5 Mbit/s.
	DefaultReadTimeout = 60 * time.Second
	// DefaultWriteTimeout bounds the time from the end of a request's
	// headers to the end of its answer: a big upload's, or a forecast
	// waiting for a model to load.
	DefaultWriteTimeout = 120 * time.Second
	// DefaultIdleTimeout bounds how long a keep-alive connection waits for
	// its next request.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultMaxHeaderBytes bounds a request's line and headers; past it
	// the server answers 431 Request Header Fields Too Large.
	DefaultMaxHeaderBytes = 64 << 10
)

// HTTPLimits are the connection limits of the API's http.Server; a zero
// (or negative) field is its Default.
type HTTPLimits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
}

// DefaultHTTPLimits are the limits of a zero HTTPLimits.
func DefaultHTTPLimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}

// withDefaults is l with each unset field its default.
func (l HTTPLimits) withDefaults() HTTPLimits {
	d := DefaultHTTPLimits()
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return l
}

// NewHTTPServer is the http.Server that serves h on addr with limits (a
// zero field is its default; see HTTPLimits). The API's main and its
// tests both build their server here, so that what the tests check
// (a slow client is cut off, an oversized header gets 431) is what runs.
// Request bodies are bounded per route by the handler itself (see
// bodyLimit).
func NewHTTPServer(addr string, h http.Handler, limits HTTPLimits) *http.Server {
	l := limits.withDefaults()
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}
