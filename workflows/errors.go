package workflows

import (
	"errors"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// stepFailed names the step a pipeline failed in while keeping the cause's
// application error type (InvalidData, NotFound, ...) at the top, where the
// starter, the Web UI and callers' errors.As see it first. The activity's
// own retries are over by now, so the pipeline failure is final.
func stepFailed(step string, err error) error {
	kind := "StepFailed"
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() != "" {
		kind = appErr.Type()
	}
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) || isStepFailure(err) {
		return err
	}
	return temporal.NewNonRetryableApplicationError(step+" failed: "+rootMessage(err), kind, err)
}

// isStepFailure: err already names the step it failed in (a helper that
// runs several activities wraps each), so the step running it keeps it.
func isStepFailure(err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		return false
	}
	head, _, ok := strings.Cut(appErr.Message(), ": ")
	f := strings.Fields(head)
	return ok && len(f) == 2 && f[1] == "failed"
}

// rootMessage is the innermost error's message: the one that says what
// went wrong. A bare context error at the bottom ("context canceled" under
// "store … unavailable (no answer within 30s): …") says less than the error
// that wraps it, so that one is taken instead.
func rootMessage(err error) string {
	msg := err.Error()
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return msg
		}
		err = next
		if m := err.Error(); !bareContextError(m) {
			msg = m
		}
	}
}

// bareContextError: a message that only says a context ended.
func bareContextError(msg string) bool {
	return msg == "context canceled" || msg == "context deadline exceeded"
}
