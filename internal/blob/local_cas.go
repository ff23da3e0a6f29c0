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
)

// GetGen reads the object whole and returns its SHA-256 as its generation.
// No lock is needed: every write replaces the file by a rename, so the open
// file is one complete version and the hash is that version's.
//
// A content hash changes exactly when the content does. Two writes of the
// same bytes keep the generation (GCS would give a new one); for a
// compare-and-swap of a value computed from the content, that is the same.
func (l *Local) GetGen(ctx context.Context, key string) ([]byte, string, error) {
	rc, err := l.Get(ctx, key)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(ctxReader{ctx: ctx, r: rc})
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", key, err)
	}
	return b, ContentHash(b), nil
}

// ContentHash is the hex SHA-256 of b: the name of content-addressed
// objects, the hash data references carry, and the local store's
// generation of an object.
func ContentHash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// PutIfGen streams r into a synced temp file, then, holding the key's lock
// (an exclusive flock on a lock file beside the object, so it excludes other
// processes too), re-reads the object's generation, compares it with gen and
// renames the temp file into place. With gen "" the temp file is hard-linked
// instead, which fails if the object appeared, even through PutIfAbsent.
func (l *Local) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	err = l.writeVia(ctx, p, r, func(tmp string) error {
		return withKeyLock(p, func() error { return commitIfGen(tmp, p, gen) })
	})
	if err != nil {
		return fmt.Errorf("put %s if generation %s: %w", key, shortGen(gen), err)
	}
	return nil
}

// commitIfGen moves tmp to p if p's generation is gen; the caller holds p's lock.
func commitIfGen(tmp, p, gen string) error {
	cur, err := fileGen(p)
	if err != nil {
		return err
	}
	if cur != gen {
		return fmt.Errorf("current generation is %s: %w", shortGen(cur), ErrPrecondition)
	}
	if gen != "" {
		return os.Rename(tmp, p)
	}
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("object appeared: %w", ErrPrecondition)
		}
		return err
	}
	return nil
}

// fileGen is the generation of the file at p, "" if there is none.
func fileGen(p string) (string, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// shortGen names a generation in messages: "none" or its first 12 characters.
func shortGen(gen string) string {
	switch {
	case gen == "":
		return "none"
	case len(gen) > 12:
		return gen[:12]
	default:
		return gen
	}
}
