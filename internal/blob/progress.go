package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// errStalled is the cause with which a progressGuard cancels its context.
var errStalled = errors.New("blob: store made no progress")

// progressGuard is a context that is cancelled when its timer runs out. The
// timer runs while the store is working and is paused while the caller is
// (inside the caller's reader during a write, between Reads during a read),
// so only the store's silences count.
type progressGuard struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	limit  time.Duration
}

// newProgressGuard returns a running guard derived from parent.
func newProgressGuard(parent context.Context, limit time.Duration) *progressGuard {
	ctx, cancel := context.WithCancelCause(parent)
	return &progressGuard{
		ctx:    ctx,
		cancel: cancel,
		timer:  time.AfterFunc(limit, func() { cancel(errStalled) }),
		limit:  limit,
	}
}

func (g *progressGuard) pause()  { g.timer.Stop() }
func (g *progressGuard) resume() { g.timer.Reset(g.limit) }

// expired reports whether the timer ran out.
func (g *progressGuard) expired() bool { return errors.Is(context.Cause(g.ctx), errStalled) }

// stop ends the guard, cancelling its context, and reports whether the
// timer had run out.
func (g *progressGuard) stop() bool {
	g.timer.Stop()
	expired := g.expired()
	g.cancel(context.Canceled)
	return expired
}

// pacedReader is the caller's reader of a write: the guard is paused while
// it produces bytes and runs again while the store consumes them.
type pacedReader struct {
	r io.Reader
	g *progressGuard
}

func (p *pacedReader) Read(b []byte) (int, error) {
	p.g.pause()
	defer p.g.resume()
	return p.r.Read(b)
}

// guardedReader is the reader Get returns: each Read must come back within
// the guard's limit; Close ends the guard.
type guardedReader struct {
	rc     io.ReadCloser
	g      *progressGuard
	s      *DeadlineStore
	parent context.Context
	key    string
}

func (r *guardedReader) Read(b []byte) (int, error) {
	r.g.resume()
	n, err := r.rc.Read(b)
	r.g.pause()
	if err != nil && !errors.Is(err, io.EOF) {
		err = r.s.classify(r.parent, "read", r.key, r.g.expired(), err)
	}
	return n, err
}

func (r *guardedReader) Close() error {
	err := r.rc.Close()
	r.g.stop()
	return err
}
