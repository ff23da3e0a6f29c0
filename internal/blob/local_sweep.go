package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// sweepDeadTemps removes the temp files under dir that no live writer
// holds: those of a process killed in the middle of a write (kill -9, a
// lost machine), which no reader ever sees but nothing else would remove.
// A writer holds a flock on its temp file until it commits (writeVia) and
// the kernel drops the locks of a dead process, so a temp file whose lock
// can be taken at once is a dead writer's, or one not yet locked by its
// writer, who then sees it gone and makes another (createLockedTemp).
func sweepDeadTemps(dir string) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile (another writer committed)
		}
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		return removeIfUnlocked(p)
	})
	if err != nil {
		return fmt.Errorf("sweep dead writers' temp files: %w", err)
	}
	return nil
}

// createLockedTemp creates a temp file in dir and takes its flock. A sweep
// (sweepDeadTemps) may take the lock of a new temp file before its writer
// does and remove it: the writer then finds its file gone once it holds
// the lock, and creates another.
func createLockedTemp(dir string) (*os.File, error) {
	const attempts = 10
	for range attempts {
		f, err := os.CreateTemp(dir, tempPrefix+"*")
		if err != nil {
			return nil, err
		}
		if err := flockExclusive(f); err != nil {
			f.Close()
			return nil, err
		}
		if ours, err := stillLinked(f); err != nil || ours {
			if err != nil {
				f.Close()
				return nil, err
			}
			return f, nil
		}
		f.Close() // swept before we locked it
	}
	return nil, fmt.Errorf("create a temp file in %s: removed by sweeps %d times in a row", dir, attempts)
}

// stillLinked says whether f's name still names f.
func stillLinked(f *os.File) (bool, error) {
	open, err := f.Stat()
	if err != nil {
		return false, err
	}
	named, err := os.Stat(f.Name())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(open, named), nil
}

// removeIfUnlocked removes the temp file at p if its flock is free.
func removeIfUnlocked(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil // a live writer's
	}
	if err != nil {
		return fmt.Errorf("flock %s: %w", p, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
