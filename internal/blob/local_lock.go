package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lockPath is the lock file of the object at p: a hidden file beside it.
func lockPath(p string) string {
	return filepath.Join(filepath.Dir(p), lockPrefix+filepath.Base(p))
}

// withKeyLock runs fn holding an exclusive flock on p's lock file, creating
// the file. flock locks are held by open files, so they exclude other
// processes as well as other goroutines, and the kernel drops them if the
// holder dies. Lock files stay in place: removing one while another process
// waits on it would let two holders in.
func withKeyLock(p string, fn func() error) error {
	f, err := os.OpenFile(lockPath(p), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open lock: %w", err)
	}
	return lockedRun(f, fn)
}

// withKeyLockIfManaged is withKeyLock for keys that have a lock file (keys
// written by PutIfGen); for other keys it runs fn without locking. Plain
// Put and Delete use it so that they serialize with compare-and-swap writes,
// without giving every object a lock file. One window stays open: a Put
// that found no lock file just before the key's first PutIfGen created one
// may land inside that PutIfGen. Keys meant for compare-and-swap (manifests)
// should be written with PutIfGen only.
func withKeyLockIfManaged(p string, fn func() error) error {
	f, err := os.OpenFile(lockPath(p), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fn()
	}
	if err != nil {
		return fmt.Errorf("open lock: %w", err)
	}
	return lockedRun(f, fn)
}

// lockedRun takes an exclusive flock on f, runs fn, and closes f (which
// releases the lock).
func lockedRun(f *os.File, fn func() error) (err error) {
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close lock: %w", cerr)
		}
	}()
	if err := flockExclusive(f); err != nil {
		return err
	}
	return fn()
}

// flockExclusive blocks until it holds an exclusive flock on f.
func flockExclusive(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("flock %s: %w", f.Name(), err)
		}
	}
}
