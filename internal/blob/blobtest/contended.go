package blobtest

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/finsight/finsight/internal/blob"
)

// Contended wraps a Store and makes the first n compare-and-swap writes
// (PutIfGen) of one key lose a race: each answers ErrPrecondition, as if
// another writer had changed the object since it was read, and writes
// nothing. Later ones, and all other calls, pass through. A
// blob.ReadModifyWrite on the key must retry past the storm.
type Contended struct {
	blob.Store
	key string
	n   int

	mu   sync.Mutex
	lost int // races lost so far
	won  int // PutIfGen calls on key that went through
}

// NewContended makes the first n PutIfGen calls on key fail with
// ErrPrecondition.
func NewContended(s blob.Store, key string, n int) *Contended {
	return &Contended{Store: s, key: key, n: n}
}

// Races returns how many PutIfGen calls on the key lost (were answered
// ErrPrecondition by the wrapper) and how many went through to the store.
func (c *Contended) Races() (lost, passed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost, c.won
}

// PutIfGen implements blob.Store.
func (c *Contended) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	if key != c.key {
		return c.Store.PutIfGen(ctx, key, r, gen)
	}
	c.mu.Lock()
	lose := c.lost < c.n
	if lose {
		c.lost++
	} else {
		c.won++
	}
	c.mu.Unlock()
	if lose {
		// The upload happens before the generation check, as on GCS.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return fmt.Errorf("blobtest: put %s: %w", key, err)
		}
		return fmt.Errorf("blobtest: put %s: another writer came first: %w", key, blob.ErrPrecondition)
	}
	return c.Store.PutIfGen(ctx, key, r, gen)
}
