package steps

// Error types a workflow can rely on (temporal.ApplicationError.Type). These
// are non-retryable: no retry can fix them.
const (
	ErrInvalidData   = "InvalidData"
	ErrInvalidParams = "InvalidParams"
	ErrNotFound      = "NotFound"
	ErrCorrupt       = "CorruptData"

	// ErrDiverged is the error type of a training run whose loss became NaN
	// or infinite: training is seeded, so a retry diverges again.
	ErrDiverged = "Diverged"

	// ErrNoModel: a retrain asked for a ticker that has no registered version.
	ErrNoModel = "NoModel"

	// The store refused a write for good: its disk is full (ENOSPC), it is
	// mounted read-only (EROFS), or the worker may not write there (EACCES,
	// GCS 403). Someone has to act; the message names the object's URI.
	ErrStoreFull     = "StoreFull"
	ErrStoreReadOnly = "StoreReadOnly"
	ErrStoreDenied   = "StoreDenied"
)

// Retryable error types: the step's retry policy tries again.
const (
	// ErrWorkerStopped is the error type of a training attempt that stopped
	// because its worker was shutting down (a deploy): it saved a checkpoint
	// first, and the next attempt, on any worker, resumes from it.
	ErrWorkerStopped = "WorkerStopped"

	// ErrRateLimited is the error type of a download Yahoo asked to retry
	// after a given delay; the retry waits that long instead of the policy's
	// backoff.
	ErrRateLimited = "RateLimited"
)
