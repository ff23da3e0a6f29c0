package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/internal/yahoo"
)

// maxRetryAfter caps the delay taken from Retry-After, so that a server's
// unreasonable answer cannot park a run for hours.
const maxRetryAfter = 10 * time.Minute

// transient wraps a retryable Yahoo failure. When Yahoo said when to come
// back (Retry-After), the next attempt is scheduled then: NextRetryDelay
// overrides the retry policy's backoff for that one retry (attempts and
// the schedule-to-close timeout still apply), capped at maxRetryAfter.
func transient(ticker string, err error) error {
	var te *yahoo.TransientError
	if errors.As(err, &te) && te.RetryAfter > 0 {
		delay := min(te.RetryAfter, maxRetryAfter)
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("download %s: rate limited, retrying after %s", ticker, delay), steps.ErrRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: delay, Cause: err})
	}
	return fmt.Errorf("download %s: %w", ticker, err)
}

// Download fetches daily bars from the Yahoo Finance chart API and stores
// them as an ordinary CSV upload (uploads/<sha256>.csv), so ingestion and
// lineage treat downloads like files. Rate limits, 5xx and network errors
// are retried by the activity's retry policy with backoff; an unknown
// ticker or a refused request fails at once.
func (a *Activities) Download(ctx context.Context, in steps.DownloadInput) (steps.DownloadResult, error) {
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return steps.DownloadResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	start, err1 := time.Parse("2006-01-02", in.Start)
	end, err2 := time.Parse("2006-01-02", in.End)
	if err := errors.Join(err1, err2); err != nil {
		return steps.DownloadResult{}, invalid(steps.ErrInvalidParams, err, "download dates must be YYYY-MM-DD: %v", err)
	}
	if a.Yahoo == nil {
		return steps.DownloadResult{}, invalid(steps.ErrInvalidParams, nil, "this worker has no Yahoo client configured")
	}
	bars, err := a.Yahoo.Daily(ctx, ticker, start, end)
	switch {
	case yahoo.IsTransient(err):
		return steps.DownloadResult{}, transient(ticker, err) // retried
	case errors.Is(err, yahoo.ErrNotFound):
		return steps.DownloadResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrNotFound, err)
	case err != nil:
		return steps.DownloadResult{}, invalid(steps.ErrInvalidData, err, "download %s: %v", ticker, err)
	}
	var csv bytes.Buffer
	if err := yahoo.WriteCSV(&csv, bars); err != nil {
		return steps.DownloadResult{}, fmt.Errorf("encode download: %w", err)
	}
	key := pipeline.UploadKey(blob.ContentHash(csv.Bytes()))
	if _, err := a.putImmutable(ctx, key, csv.Bytes(), bars.Len()); err != nil {
		return steps.DownloadResult{}, err
	}
	return steps.DownloadResult{CSVKey: key, Rows: bars.Len()}, nil
}
