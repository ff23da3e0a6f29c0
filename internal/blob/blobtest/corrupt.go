package blobtest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/finsight/finsight/internal/blob"
)

// Damage is what Corrupt does to an object's bytes.
type Damage int

const (
	// Truncate keeps the first half of the object, as a copy cut short
	// or a file system that lost its tail would.
	Truncate Damage = iota + 1
	// FlipBit flips one bit in the middle of the object, as bit rot would.
	FlipBit
)

func (d Damage) String() string {
	switch d {
	case Truncate:
		return "truncated"
	case FlipBit:
		return "bit-flipped"
	default:
		return fmt.Sprintf("Damage(%d)", int(d))
	}
}

// Damaged returns b with damage d done to it (b is not changed).
func Damaged(b []byte, d Damage) []byte {
	out := append([]byte(nil), b...)
	switch d {
	case Truncate:
		return out[:len(out)/2]
	case FlipBit:
		if len(out) > 0 {
			out[len(out)/2] ^= 0x10
		}
	}
	return out
}

// Corrupt rewrites the object at key in s with damage d done to it.
func Corrupt(ctx context.Context, s blob.Store, key string, d Damage) error {
	b, err := blob.GetBytes(ctx, s, key)
	if err != nil {
		return fmt.Errorf("blobtest: corrupt %s: %w", key, err)
	}
	if err := blob.PutBytes(ctx, s, key, Damaged(b, d)); err != nil {
		return fmt.Errorf("blobtest: corrupt %s: %w", key, err)
	}
	return nil
}

// CorruptAfterWrite wraps a Store and damages the first object written
// under a prefix right after its write succeeds: the writer returns a
// reference to what it wrote, and the step that reads it next finds
// different bytes, as after bit rot or a truncating copy between two steps.
type CorruptAfterWrite struct {
	blob.Store
	prefix string
	damage Damage

	mu  sync.Mutex
	key string // the damaged object, once there is one
	err error  // why damaging it failed, if it did
}

// NewCorruptAfterWrite damages the first object written under prefix.
func NewCorruptAfterWrite(s blob.Store, prefix string, d Damage) *CorruptAfterWrite {
	return &CorruptAfterWrite{Store: s, prefix: prefix, damage: d}
}

// Corrupted returns the key of the damaged object ("" if none yet) and the
// error damaging it met, if any.
func (c *CorruptAfterWrite) Corrupted() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.key, c.err
}

// Put implements blob.Store.
func (c *CorruptAfterWrite) Put(ctx context.Context, key string, r io.Reader) error {
	return c.after(ctx, key, c.Store.Put(ctx, key, r))
}

// PutIfAbsent implements blob.Store.
func (c *CorruptAfterWrite) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	return c.after(ctx, key, c.Store.PutIfAbsent(ctx, key, r))
}

// PutIfGen implements blob.Store.
func (c *CorruptAfterWrite) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	return c.after(ctx, key, c.Store.PutIfGen(ctx, key, r, gen))
}

// after damages key if its write succeeded and it is the first under the
// prefix; it returns the write's own error.
func (c *CorruptAfterWrite) after(ctx context.Context, key string, err error) error {
	if err != nil || !strings.HasPrefix(key, c.prefix) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != "" {
		return nil
	}
	c.key = key
	c.err = Corrupt(ctx, c.Store, key, c.damage)
	return nil
}
