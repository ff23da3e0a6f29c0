package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Local is a Store backed by a directory on the local file system.
type Local struct {
	dir  string   // absolute
	gens genCache // generations by stat (Generation)
}

var _ Store = (*Local)(nil)

// NewLocal returns a store rooted at dir, creating the directory if needed.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local store %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("local store %s: %w", abs, err)
	}
	if err := sweepDeadTemps(abs); err != nil {
		return nil, fmt.Errorf("local store %s: %w", abs, err)
	}
	return &Local{dir: abs}, nil
}

// Dir returns the absolute root directory of the store.
func (l *Local) Dir() string { return l.dir }

// Close does nothing; it lets callers close any Store returned by Open.
func (l *Local) Close() error { return nil }

func (l *Local) path(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// Put writes r to a temp file next to the target, syncs it and renames it
// into place, so readers never see a partial object. The rename holds the
// key's lock if PutIfGen gave it one.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	err = l.writeVia(ctx, p, r, func(tmp string) error {
		return withKeyLockIfManaged(p, func() error { return os.Rename(tmp, p) })
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// PutIfAbsent writes r to a temp file and hard-links it to the target; the
// link fails if the target exists, which makes the create atomic and exclusive.
func (l *Local) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	err = l.writeVia(ctx, p, r, func(tmp string) error {
		if err := os.Link(tmp, p); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return ErrExists
			}
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// writeVia streams r into a synced temp file in target's directory, then
// calls commit with the temp file's name and syncs the directory. The temp
// file is always removed afterwards (after a rename it no longer exists).
// The writer holds a flock on the temp file until the commit is done: that
// is how sweepDeadTemps tells the temp file of a live writer from the one
// a killed process left.
func (l *Local) writeVia(ctx context.Context, target string, r io.Reader, commit func(tmp string) error) (err error) {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := createLockedTemp(dir)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := writeSynced(ctx, f, r); err != nil {
		return err
	}
	if err := commit(tmp); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeSynced copies r into f and fsyncs f.
func writeSynced(ctx context.Context, f *os.File, r io.Reader) error {
	if _, err := io.Copy(f, ctxReader{ctx: ctx, r: r}); err != nil {
		return err
	}
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return d.Close()
}

// Get opens the object for streaming reads.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return f, nil
}

// Exists reports whether key names a regular file in the store.
func (l *Local) Exists(ctx context.Context, key string) (bool, error) {
	p, err := l.path(key)
	if err != nil {
		return false, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("exists %s: %w", key, err)
	}
	return st.Mode().IsRegular(), nil
}

// List walks the directory under prefix and returns the matching keys,
// sorted, skipping in-flight temp files and lock files.
func (l *Local) List(ctx context.Context, prefix string) ([]string, error) {
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	start := l.dir
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(l.dir, filepath.FromSlash(prefix[:i]))
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || isReserved(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// Delete removes the object (holding its lock if PutIfGen gave it one); a
// missing key is not an error.
func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	err = withKeyLockIfManaged(p, func() error {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// URI returns file:///abs/dir/key.
func (l *Local) URI(key string) string {
	return "file://" + path.Join(filepath.ToSlash(l.dir), key)
}
