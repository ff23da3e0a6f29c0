package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// racyWindow: a file modified less than this long before it was hashed is
// not remembered by its stat (see Generation). It covers file systems
// whose timestamps are as coarse as 2 s.
const racyWindow = 2 * time.Second

// maxRememberedGens bounds the generations a Local remembers; past it the
// memory is cleared and refilled by use.
const maxRememberedGens = 4096

// localHashes counts the files Generation had to read and hash (tests).
var localHashes atomic.Int64

// Generation returns the object's SHA-256, as GetGen does, from a stat
// when it can: each Local remembers the hash of the files it hashed by
// their device, inode, size and modification time. Every write replaces
// the file by a rename (a new inode), so a changed object has a new stat
// and is read and hashed again. So the steady cost is one stat; an object
// that changed costs one read and hash of it.
//
// Inode numbers are reused, so a rewrite could in principle get the old
// file's stat back: same inode, same size, and a modification time in the
// same timestamp tick. That can only happen to a file modified within a
// tick of the time it is hashed, so a file younger than racyWindow when it
// was hashed is not remembered (the "racy" rule git applies to its index).
// The rule takes the file's timestamps to come from this machine's clock,
// as they do on a local disk.
func (l *Local) Generation(ctx context.Context, key string) (string, error) {
	p, err := l.path(key)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return "", fmt.Errorf("stat %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", key, err)
	}
	if sig, ok := statSig(fi); ok {
		if gen, ok := l.gens.get(p, sig); ok {
			return gen, nil
		}
	}
	now := time.Now()
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("stat %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", key, err)
	}
	defer f.Close()
	fi, err = f.Stat() // the file being hashed, which a rename may have replaced since the stat
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", key, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx: ctx, r: f}); err != nil {
		return "", fmt.Errorf("hash %s: %w", key, err)
	}
	localHashes.Add(1)
	gen := hex.EncodeToString(h.Sum(nil))
	if sig, ok := statSig(fi); ok && now.Sub(fi.ModTime()) > racyWindow {
		l.gens.put(p, sig, gen)
	}
	return gen, nil
}

// fileSig is what a stat says about one version of a file.
type fileSig struct {
	dev, ino uint64
	size     int64
	mtime    int64 // ns
}

func statSig(fi fs.FileInfo) (fileSig, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileSig{}, false
	}
	return fileSig{dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(), mtime: fi.ModTime().UnixNano()}, true // Dev's and Ino's types vary by platform
}

// genCache maps a file's path to its last hashed version's stat and hash.
type genCache struct {
	mu sync.Mutex
	m  map[string]genEntry
}

type genEntry struct {
	sig fileSig
	gen string
}

func (c *genCache) get(p string, sig fileSig) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[p]
	if !ok || e.sig != sig {
		return "", false
	}
	return e.gen, true
}

func (c *genCache) put(p string, sig fileSig, gen string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxRememberedGens {
		c.m = map[string]genEntry{}
	}
	c.m[p] = genEntry{sig: sig, gen: gen}
}
