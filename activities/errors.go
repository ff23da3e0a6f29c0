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

// storeErr turns a missing object into a non-retryable failure and leaves
// other store errors (I/O, network) to the retry policy.
func storeErr(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if errors.Is(err, blob.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(msg+": "+err.Error(), steps.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", msg, err)
}
