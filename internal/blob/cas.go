package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Bounds of ReadModifyWrite's retries: at most casAttempts tries, sleeping a
// random time below min(casBaseDelay<<attempt, casMaxDelay) between them
// ("full jitter", so that contending writers spread out).
const (
	casAttempts  = 50
	casBaseDelay = 2 * time.Millisecond
	casMaxDelay  = 100 * time.Millisecond
)

// Mutation computes an object's new content from its current one (found is
// false and cur nil when the object does not exist). It returns write=false
// to leave the object as it is. It may be called several times, once per
// attempt, each time with fresher content, so it must not have other effects.
type Mutation func(cur []byte, found bool) (next []byte, write bool, err error)

// ReadModifyWrite updates the object at key with a compare-and-swap loop:
// read it with its generation, apply mutate, write the result only if the
// generation is unchanged, and on ErrPrecondition start again. It gives up
// with ErrPrecondition (wrapped) after a bounded number of attempts, saying
// how many races it lost: a storm of writers that long is a transient
// state, so callers leave that error to their retry policy. An error from
// mutate is returned as it is, with nothing written.
func ReadModifyWrite(ctx context.Context, s Store, key string, mutate Mutation) error {
	for attempt := range casAttempts {
		cur, gen, err := s.GetGen(ctx, key)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("read-modify-write %s: %w", key, err)
		}
		next, write, err := mutate(cur, found)
		if err != nil || !write {
			return err
		}
		err = s.PutIfGen(ctx, key, bytes.NewReader(next), gen)
		if !errors.Is(err, ErrPrecondition) {
			return err
		}
		if err := sleepJittered(ctx, attempt); err != nil {
			return fmt.Errorf("read-modify-write %s: %w", key, err)
		}
	}
	return fmt.Errorf("read-modify-write %s: lost %d races in a row to other writers: %w", key, casAttempts, ErrPrecondition)
}

// sleepJittered waits a random time below the attempt's backoff ceiling, or
// until ctx is done.
func sleepJittered(ctx context.Context, attempt int) error {
	ceiling := min(casBaseDelay<<min(attempt, 16), casMaxDelay)
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond/10)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
