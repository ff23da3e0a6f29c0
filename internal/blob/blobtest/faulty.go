// Package blobtest has Store wrappers for tests.
package blobtest

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/finsight/finsight/internal/blob"
)

// ErrInjected is the error a Faulty store's broken write fails with.
var ErrInjected = errors.New("blobtest: injected write failure")

// defaultBreakAfter is how many bytes a broken write passes on when the
// size of its content is not known up front.
const defaultBreakAfter = 512

// Faulty wraps a Store and breaks one write half-way: the Nth write (Put,
// PutIfAbsent or PutIfGen) whose key starts with Prefix gets a reader that
// yields the first half of the content (or defaultBreakAfter bytes when the
// size is unknown) and then fails with ErrInjected, as a dropped connection
// or a full disk would. All other calls pass through. It counts writes per
// key, so a test can see that the failed one was retried.
type Faulty struct {
	blob.Store
	Prefix  string // only writes of keys with this prefix count
	FailNth int    // 1-based; 0 breaks nothing

	mu     sync.Mutex
	seen   int               // writes under Prefix so far
	counts map[string]Counts // per key under Prefix
	broken string            // the key of the broken write, once it happened
}

// Counts are the writes of one key.
type Counts struct {
	Attempts  int // writes started, the broken one included
	Succeeded int // writes the wrapped store accepted
}

// NewFaulty wraps s so that the nth write under prefix fails half-way.
func NewFaulty(s blob.Store, prefix string, nth int) *Faulty {
	return &Faulty{Store: s, Prefix: prefix, FailNth: nth}
}

// Broken returns the key whose write was broken, and whether one was.
func (f *Faulty) Broken() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.broken, f.broken != ""
}

// Writes returns the counts of key's writes (keys under Prefix only).
func (f *Faulty) Writes(key string) Counts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[key]
}

// Put implements blob.Store.
func (f *Faulty) Put(ctx context.Context, key string, r io.Reader) error {
	return f.write(key, r, func(r io.Reader) error { return f.Store.Put(ctx, key, r) })
}

// PutIfAbsent implements blob.Store.
func (f *Faulty) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	return f.write(key, r, func(r io.Reader) error { return f.Store.PutIfAbsent(ctx, key, r) })
}

// PutIfGen implements blob.Store.
func (f *Faulty) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	return f.write(key, r, func(r io.Reader) error { return f.Store.PutIfGen(ctx, key, r, gen) })
}

// write runs put with r, or with a breaking reader if this is the write to
// break, and counts the outcome.
func (f *Faulty) write(key string, r io.Reader, put func(io.Reader) error) error {
	if !strings.HasPrefix(key, f.Prefix) {
		return put(r)
	}
	if f.start(key) {
		r = &breakingReader{r: r, left: breakPoint(r), fail: ErrInjected}
	}
	err := put(r)
	if err == nil {
		f.mu.Lock()
		c := f.counts[key]
		c.Succeeded++
		f.counts[key] = c
		f.mu.Unlock()
	}
	return err
}

// start counts a write of key under Prefix and reports whether it is the
// one to break.
func (f *Faulty) start(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = map[string]Counts{}
	}
	c := f.counts[key]
	c.Attempts++
	f.counts[key] = c
	f.seen++
	if f.seen != f.FailNth {
		return false
	}
	f.broken = key
	return true
}

// breakPoint is half the content's size when r knows it (bytes.Reader,
// strings.Reader, bytes.Buffer), else defaultBreakAfter.
func breakPoint(r io.Reader) int64 {
	if l, ok := r.(interface{ Len() int }); ok && l.Len() > 1 {
		return int64(l.Len() / 2)
	}
	return defaultBreakAfter
}

// breakingReader passes on left bytes of r and then fails with fail
// (ErrInjected, or an OS error), also if r ends first: the write never
// completes.
type breakingReader struct {
	r    io.Reader
	left int64
	fail error
}

func (b *breakingReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, b.fail
	}
	n, err := b.r.Read(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	if errors.Is(err, io.EOF) {
		return n, b.fail
	}
	return n, err
}
