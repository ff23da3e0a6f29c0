package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/blob"
)

// storeHealth remembers the last store outage for retryAfter, so that while
// it lasts store-backed routes answer 503 at once instead of each waiting
// out a store deadline. Once the window has passed, the next request tries
// the store again; a /readyz that reaches the store ends the window early.
type storeHealth struct {
	retryAfter time.Duration

	mu    sync.Mutex
	until time.Time // down until then
	err   error     // the outage's error
}

// markDown records an outage seen now.
func (h *storeHealth) markDown(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.until, h.err = time.Now().Add(h.retryAfter), err
}

// markUp records that the store answered.
func (h *storeHealth) markUp() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.until, h.err = time.Time{}, nil
}

// down returns the outage's error while its window lasts, else nil.
func (h *storeHealth) down() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil && time.Now().Before(h.until) {
		return h.err
	}
	return nil
}

// retryAfterSeconds is the Retry-After of a 503: the window, rounded up.
func (h *storeHealth) retryAfterSeconds() int {
	return max(1, int(math.Ceil(h.retryAfter.Seconds())))
}

// storeDown answers 503 if a recent call found the store unavailable, and
// reports whether it did.
func (s *Server) storeDown(c *gin.Context) bool {
	if err := s.health.down(); err != nil {
		s.unavailable(c, err)
		return true
	}
	return false
}

// storeFailed answers a store-backed route's error: 503 with Retry-After
// (remembered for the window) when the store is unavailable, else 500.
func (s *Server) storeFailed(c *gin.Context, err error) {
	if errors.Is(err, blob.ErrUnavailable) {
		s.health.markDown(err)
		s.unavailable(c, err)
		return
	}
	jsonError(c, http.StatusInternalServerError, err.Error())
}

// timedOut is err of a store call that the server's own lookup timeout cut
// short, as the outage it is.
func (s *Server) timedOut(op, key string, err error) error {
	if errors.Is(err, blob.ErrUnavailable) {
		return err
	}
	return &blob.UnavailableError{Store: strings.TrimSuffix(s.store.URI(""), "/"), Op: op, Key: key, Within: s.lookupTimeout, Cause: err}
}

// unavailable answers 503 {"error": "store unavailable ...", "retry_after_s": N}
// with Retry-After: N.
func (s *Server) unavailable(c *gin.Context, err error) {
	secs := s.health.retryAfterSeconds()
	c.Header("Retry-After", strconv.Itoa(secs))
	c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{
		"error":         fmt.Sprintf("store unavailable, retry in %d s: %v", secs, err),
		"retry_after_s": secs,
	})
}
