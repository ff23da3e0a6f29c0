package blob

import (
	"context"
	"io"
	"strings"
	"time"
)

// DefaultCallTimeout bounds each store call when Open is given no
// WithCallTimeout.
const DefaultCallTimeout = 30 * time.Second

// DeadlineStore gives every call of the store it wraps a deadline, so that a
// store that stops answering makes calls fail with ErrUnavailable (wrapped in
// an *UnavailableError naming the store, the operation and the key) instead
// of hanging:
//
//   - Exists, List, Delete, GetGen (small manifests) and Generation must
//     finish within the timeout.
//   - Put, PutIfAbsent and PutIfGen must not go longer than the timeout
//     without taking bytes from the caller's reader (or, after the last one,
//     without finishing). Time spent inside the caller's reader does not
//     count, so a slow producer is not an outage.
//   - Get must open the object within the timeout, and each Read of the
//     reader it returns must come back within the timeout; the time between
//     Reads is the caller's and does not count. Reads are cut off through
//     the call's context, which GCS reads honour.
//
// So an object of any size moves as long as the store keeps answering; only
// silences are bounded. A caller that cancels, or whose own deadline passes
// first, gets its context's error, not ErrUnavailable.
type DeadlineStore struct {
	inner   Store
	timeout time.Duration
	uri     string // inner's root, for error messages
}

var (
	_ Store     = (*DeadlineStore)(nil)
	_ io.Closer = (*DeadlineStore)(nil)
)

// WithDeadlines wraps s so that each call has the timeout described on
// DeadlineStore (timeout <= 0: DefaultCallTimeout). Wrapping a DeadlineStore
// replaces its timeout.
func WithDeadlines(s Store, timeout time.Duration) *DeadlineStore {
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	if d, ok := s.(*DeadlineStore); ok {
		s = d.inner
	}
	return &DeadlineStore{inner: s, timeout: timeout, uri: strings.TrimSuffix(s.URI(""), "/")}
}

// Unwrap returns the wrapped store.
func (s *DeadlineStore) Unwrap() Store { return s.inner }

// Timeout returns the bound of each call.
func (s *DeadlineStore) Timeout() time.Duration { return s.timeout }

// Close closes the wrapped store if it is an io.Closer.
func (s *DeadlineStore) Close() error {
	if c, ok := s.inner.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// URI implements Store; it does no I/O.
func (s *DeadlineStore) URI(key string) string { return s.inner.URI(key) }

// Put implements Store.
func (s *DeadlineStore) Put(ctx context.Context, key string, r io.Reader) error {
	return s.write(ctx, "put", key, r, func(ctx context.Context, r io.Reader) error { return s.inner.Put(ctx, key, r) })
}

// PutIfAbsent implements Store.
func (s *DeadlineStore) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	return s.write(ctx, "put", key, r, func(ctx context.Context, r io.Reader) error { return s.inner.PutIfAbsent(ctx, key, r) })
}

// PutIfGen implements Store.
func (s *DeadlineStore) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	return s.write(ctx, "put", key, r, func(ctx context.Context, r io.Reader) error { return s.inner.PutIfGen(ctx, key, r, gen) })
}

// write runs put under a progress guard that the caller's reader re-arms.
func (s *DeadlineStore) write(ctx context.Context, op, key string, r io.Reader, put func(context.Context, io.Reader) error) error {
	g := newProgressGuard(ctx, s.timeout)
	err := put(g.ctx, &pacedReader{r: r, g: g})
	return s.classify(ctx, op, key, g.stop(), err)
}

// Get implements Store.
func (s *DeadlineStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	g := newProgressGuard(ctx, s.timeout)
	rc, err := s.inner.Get(g.ctx, key)
	if err != nil {
		return nil, s.classify(ctx, "get", key, g.stop(), err)
	}
	g.pause()
	return &guardedReader{rc: rc, g: g, s: s, parent: ctx, key: key}, nil
}

// GetGen implements Store.
func (s *DeadlineStore) GetGen(ctx context.Context, key string) ([]byte, string, error) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	b, gen, err := s.inner.GetGen(cctx, key)
	return b, gen, s.classify(ctx, "get", key, s.expired(ctx, cctx), err)
}

// Generation implements Store.
func (s *DeadlineStore) Generation(ctx context.Context, key string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	gen, err := s.inner.Generation(cctx, key)
	return gen, s.classify(ctx, "stat", key, s.expired(ctx, cctx), err)
}

// Exists implements Store.
func (s *DeadlineStore) Exists(ctx context.Context, key string) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ok, err := s.inner.Exists(cctx, key)
	return ok, s.classify(ctx, "exists", key, s.expired(ctx, cctx), err)
}

// List implements Store.
func (s *DeadlineStore) List(ctx context.Context, prefix string) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	keys, err := s.inner.List(cctx, prefix)
	return keys, s.classify(ctx, "list", prefix, s.expired(ctx, cctx), err)
}

// Delete implements Store.
func (s *DeadlineStore) Delete(ctx context.Context, key string) error {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.inner.Delete(cctx, key)
	return s.classify(ctx, "delete", key, s.expired(ctx, cctx), err)
}

// expired reports whether the call's context ran out while the caller's
// did not.
func (s *DeadlineStore) expired(parent, call context.Context) bool {
	return call.Err() != nil && parent.Err() == nil
}

func (s *DeadlineStore) classify(parent context.Context, op, key string, expired bool, err error) error {
	var d time.Duration
	if expired {
		d = s.timeout
	}
	return classify(parent, s.uri, op, key, d, err)
}
