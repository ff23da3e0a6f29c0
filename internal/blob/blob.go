// Package blob is a small object store with a local-directory and a
// Google Cloud Storage implementation behind one interface.
package blob

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned (wrapped with the key) when an object does not exist.
var ErrNotFound = errors.New("blob: object not found")

// ErrExists is returned (wrapped with the key) by PutIfAbsent when the object
// already exists.
var ErrExists = errors.New("blob: object already exists")

// ErrPrecondition is returned (wrapped with the key) by PutIfGen when the
// object's current generation is not the one the caller read: someone else
// wrote (or created, or deleted) it in between.
var ErrPrecondition = errors.New("blob: generation precondition failed")

// Store is a flat namespace of objects named by slash-separated relative keys.
type Store interface {
	// Put writes the object atomically: readers see the old object or the
	// whole new one, never a part.
	Put(ctx context.Context, key string, r io.Reader) error
	// PutIfAbsent is Put with a does-not-exist precondition: it returns
	// ErrExists (wrapped) if the key exists.
	PutIfAbsent(ctx context.Context, key string, r io.Reader) error
	// Get opens the object for reading; ErrNotFound (wrapped) when missing.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// GetGen reads a small mutable object (a manifest) whole, with its
	// generation: an opaque token that PutIfGen compares. ErrNotFound
	// (wrapped) when missing.
	GetGen(ctx context.Context, key string) (data []byte, gen string, err error)
	// Generation returns the generation GetGen would return with the
	// object's content, from its metadata only (a GCS attributes request, a
	// local stat), so that a reader holding a copy can check cheaply
	// whether it is still current and read the object again only when it
	// changed. ErrNotFound (wrapped) when missing.
	Generation(ctx context.Context, key string) (gen string, err error)
	// PutIfGen is Put with a compare-and-swap precondition: it writes only if
	// the object's current generation is gen ("" means the object must not
	// exist) and otherwise returns ErrPrecondition (wrapped), leaving the
	// object as it is. ReadModifyWrite is the retry loop around it.
	PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error
	// Exists reports whether the object exists.
	Exists(ctx context.Context, key string) (bool, error)
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// URI names the object: file:///abs/path/key or gs://bucket/prefix/key.
	URI(key string) string
}
