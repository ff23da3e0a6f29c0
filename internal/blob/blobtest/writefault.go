package blobtest

import (
	"context"
	"io"
	"io/fs"
	"strings"
	"sync"
	"syscall"

	"github.com/finsight/finsight/internal/blob"
)

// WriteFault wraps a Store and fails writes (Put, PutIfAbsent, PutIfGen)
// of keys under a prefix half-way with the error the operating system
// gives a full or read-only disk: the wrapped store gets a reader that
// yields part of the content and then fails with the error, as a write(2)
// would, so it must abandon the write and leave no part of the object.
// Other calls pass through. It is the fallback for a machine that cannot
// mount a real full or read-only file system (MountTmpfs), and the way to
// give a GCS store the same fault.
type WriteFault struct {
	blob.Store
	prefix string
	errno  syscall.Errno
	times  int // writes to fail; 0: every one

	mu     sync.Mutex
	failed []string // keys whose write failed, in order
}

// NewNoSpace fails the first n writes under prefix (n = 0: all of them)
// with ENOSPC ("no space left on device").
func NewNoSpace(s blob.Store, prefix string, n int) *WriteFault {
	return &WriteFault{Store: s, prefix: prefix, errno: syscall.ENOSPC, times: n}
}

// NewReadOnly fails the first n writes under prefix (n = 0: all of them)
// with EROFS ("read-only file system").
func NewReadOnly(s blob.Store, prefix string, n int) *WriteFault {
	return &WriteFault{Store: s, prefix: prefix, errno: syscall.EROFS, times: n}
}

// Failed returns the keys whose write was failed, in order.
func (w *WriteFault) Failed() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.failed...)
}

// Put implements blob.Store.
func (w *WriteFault) Put(ctx context.Context, key string, r io.Reader) error {
	return w.Store.Put(ctx, key, w.reader(key, r))
}

// PutIfAbsent implements blob.Store.
func (w *WriteFault) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	return w.Store.PutIfAbsent(ctx, key, w.reader(key, r))
}

// PutIfGen implements blob.Store.
func (w *WriteFault) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	return w.Store.PutIfGen(ctx, key, w.reader(key, r), gen)
}

// reader returns r, or a reader that breaks half-way with the fault's
// *fs.PathError if this write is to fail.
func (w *WriteFault) reader(key string, r io.Reader) io.Reader {
	if !strings.HasPrefix(key, w.prefix) {
		return r
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.times > 0 && len(w.failed) >= w.times {
		return r
	}
	w.failed = append(w.failed, key)
	path := strings.TrimPrefix(w.Store.URI(key), "file://")
	return &breakingReader{r: r, left: breakPoint(r), fail: &fs.PathError{Op: "write", Path: path, Err: w.errno}}
}
