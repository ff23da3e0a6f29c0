package activities

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/steps"
)

// invalid marks bad input that no retry can fix.
func invalid(kind string, err error, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), kind, err)
}

// storeErr turns a missing object, or a store that refuses the call for
// good (see blob.Refused), into a non-retryable failure and leaves other
// store errors (I/O, network, blob.ErrUnavailable) to the retry policy.
func storeErr(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if errors.Is(err, blob.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(msg+": "+err.Error(), steps.ErrNotFound, err)
	}
	if why, cause, ok := blob.Refused(err); ok {
		return refusal(why, msg+": "+string(why)+": "+cause)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// writeErr is storeErr for a failed write of key: a refusal (disk full,
// read-only, denied) fails the step at once, naming the object's URI and
// the cause ("disk full writing file:///…/data/derived/…: no space left
// on device"). Retrying would not free the space: the step would fill the
// logs for the whole retry window and then fail with a timeout that says
// less. A rerun after the operator acted is cheap, since every finished
// step's output is content-addressed and reused. Other errors are left
// to the retry policy.
func (a *Activities) writeErr(key string, err error) error {
	if why, cause, ok := blob.Refused(err); ok {
		return refusal(why, fmt.Sprintf("%s writing %s: %s", why, a.Store.URI(key), cause))
	}
	return fmt.Errorf("write %s: %w", key, err)
}

// refusal is the non-retryable error of a refused call. It carries no
// cause: the workflow reports a failure's innermost message, which must be
// this one, naming the object, not the bare errno's.
func refusal(why blob.Refusal, msg string) error {
	kind := steps.ErrStoreDenied
	switch why {
	case blob.RefusedNoSpace:
		kind = steps.ErrStoreFull
	case blob.RefusedReadOnly:
		kind = steps.ErrStoreReadOnly
	}
	return temporal.NewNonRetryableApplicationError(msg, kind, nil)
}

// corrupt is the non-retryable error of a stored object whose bytes are
// not what its reference says (hash mismatch) or do not decode: a retry
// reads the same bytes. It names the object's URI so that an operator can
// find it, and carries no cause for the same reason as refusal.
func (a *Activities) corrupt(key string, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("corrupt object %s: %s", a.Store.URI(key), fmt.Sprintf(format, args...)), steps.ErrCorrupt, nil)
}
