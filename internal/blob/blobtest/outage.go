package blobtest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/finsight/finsight/internal/blob"
)

// Mode is how a store behaves while it is down.
type Mode int

const (
	// Hang: every call blocks until its context is done (it then returns
	// the context's error) or the store comes back up (it then goes
	// through), like a bucket behind a dead network path. Only a deadline
	// ends it: wrap the Outage in blob.WithDeadlines to get ErrUnavailable.
	Hang Mode = iota + 1
	// Refuse: every call fails, after the refuse delay (SetRefuseDelay,
	// default at once), with an error wrapping syscall.ECONNREFUSED, like a
	// stopped emulator; blob.WithDeadlines maps it to ErrUnavailable.
	Refuse
)

func (m Mode) String() string {
	switch m {
	case Hang:
		return "hang"
	case Refuse:
		return "refuse"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// Outage wraps a Store that a test can take down and bring back: Down(mode)
// until Up, or DownFor(mode, d) for a window. While it is down, every call
// (and every Read of a reader Get returned before) hangs or is refused, as
// Mode says; URI still answers. It is safe for concurrent use: a pipeline's
// activities, an API and the test's switch may all use it at once.
type Outage struct {
	store blob.Store

	mu          sync.Mutex
	mode        Mode          // 0 while up
	upc         chan struct{} // closed when the store comes back up (or changes mode)
	window      int           // counts Down/DownFor/Up calls, so that an old DownFor timer does nothing
	refuseDelay time.Duration
	hits        int // calls (and reads) that met the outage
}

var _ blob.Store = (*Outage)(nil)

// NewOutage wraps s; it starts up.
func NewOutage(s blob.Store) *Outage {
	return &Outage{store: s, upc: make(chan struct{})}
}

// Down takes the store down until Up (or another Down or DownFor).
func (o *Outage) Down(mode Mode) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.set(mode)
}

// DownFor takes the store down now and brings it back after d, unless Down,
// DownFor or Up is called meanwhile.
func (o *Outage) DownFor(mode Mode, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.set(mode)
	window := o.window
	time.AfterFunc(d, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.window == window {
			o.set(0)
		}
	})
}

// Up brings the store back: hanging calls go through.
func (o *Outage) Up() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.set(0)
}

// set changes the mode (0: up) and wakes the calls that wait on the old one;
// o.mu is held.
func (o *Outage) set(mode Mode) {
	o.window++
	o.mode = mode
	close(o.upc)
	o.upc = make(chan struct{})
}

// IsDown reports whether the store is down now.
func (o *Outage) IsDown() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.mode != 0
}

// SetRefuseDelay sets how long a refused call takes to fail.
func (o *Outage) SetRefuseDelay(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refuseDelay = d
}

// Hits returns how many calls and reads met the outage so far.
func (o *Outage) Hits() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits
}

// gate returns nil when the store is up (at once, or once a hanging call
// sees it come back), else the error of a hung or refused call.
func (o *Outage) gate(ctx context.Context, op, key string) error {
	for counted := false; ; counted = true {
		o.mu.Lock()
		mode, upc, delay := o.mode, o.upc, o.refuseDelay
		if mode != 0 && !counted {
			o.hits++
		}
		o.mu.Unlock()
		switch mode {
		case 0:
			return nil
		case Hang:
			select {
			case <-ctx.Done():
				return fmt.Errorf("blobtest: %s %s: the store hangs: %w", op, key, ctx.Err())
			case <-upc: // up again, or another mode: look again
			}
		default: // Refuse
			if delay > 0 {
				t := time.NewTimer(delay)
				select {
				case <-ctx.Done():
					t.Stop()
					return fmt.Errorf("blobtest: %s %s: %w", op, key, ctx.Err())
				case <-t.C:
				}
			}
			return fmt.Errorf("blobtest: %s %s: dial store: %w", op, key, syscall.ECONNREFUSED)
		}
	}
}

// URI implements blob.Store; it works while the store is down.
func (o *Outage) URI(key string) string { return o.store.URI(key) }

// Close closes the wrapped store if it is an io.Closer.
func (o *Outage) Close() error {
	if c, ok := o.store.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Put implements blob.Store.
func (o *Outage) Put(ctx context.Context, key string, r io.Reader) error {
	if err := o.gate(ctx, "put", key); err != nil {
		return err
	}
	return o.store.Put(ctx, key, r)
}

// PutIfAbsent implements blob.Store.
func (o *Outage) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	if err := o.gate(ctx, "put", key); err != nil {
		return err
	}
	return o.store.PutIfAbsent(ctx, key, r)
}

// PutIfGen implements blob.Store.
func (o *Outage) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	if err := o.gate(ctx, "put", key); err != nil {
		return err
	}
	return o.store.PutIfGen(ctx, key, r, gen)
}

// Get implements blob.Store. The reader's Reads meet an outage that starts
// after Get returned, with Get's context.
func (o *Outage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := o.gate(ctx, "get", key); err != nil {
		return nil, err
	}
	rc, err := o.store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return &outageReader{ReadCloser: rc, o: o, ctx: ctx, key: key}, nil
}

// GetGen implements blob.Store.
func (o *Outage) GetGen(ctx context.Context, key string) ([]byte, string, error) {
	if err := o.gate(ctx, "get", key); err != nil {
		return nil, "", err
	}
	return o.store.GetGen(ctx, key)
}

// Generation implements blob.Store.
func (o *Outage) Generation(ctx context.Context, key string) (string, error) {
	if err := o.gate(ctx, "stat", key); err != nil {
		return "", err
	}
	return o.store.Generation(ctx, key)
}

// Exists implements blob.Store.
func (o *Outage) Exists(ctx context.Context, key string) (bool, error) {
	if err := o.gate(ctx, "exists", key); err != nil {
		return false, err
	}
	return o.store.Exists(ctx, key)
}

// List implements blob.Store.
func (o *Outage) List(ctx context.Context, prefix string) ([]string, error) {
	if err := o.gate(ctx, "list", prefix); err != nil {
		return nil, err
	}
	return o.store.List(ctx, prefix)
}

// Delete implements blob.Store.
func (o *Outage) Delete(ctx context.Context, key string) error {
	if err := o.gate(ctx, "delete", key); err != nil {
		return err
	}
	return o.store.Delete(ctx, key)
}

// outageReader is a reader from Get whose Reads meet the outage too.
type outageReader struct {
	io.ReadCloser
	o   *Outage
	ctx context.Context
	key string
}

func (r *outageReader) Read(p []byte) (int, error) {
	if err := r.o.gate(r.ctx, "read", r.key); err != nil {
		return 0, err
	}
	return r.ReadCloser.Read(p)
}
