package activities

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/internal/yahoo"
)

// yahooAnswering points the harness's Yahoo client at a stub that answers
// every request with status and headers.
func yahooAnswering(t *testing.T, h *harness, status int, header map[string]string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"chart":{"result":null,"error":{"code":"Too Many Requests","description":"slow down"}}}`))
	}))
	t.Cleanup(srv.Close)
	h.acts.Yahoo = &yahoo.Client{BaseURL: srv.URL, HTTP: srv.Client()}
}

func TestDownloadRetryAfterBecomesNextRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		want   time.Duration // 0: no ApplicationError, the policy's backoff applies
	}{
		{"429 with Retry-After", http.StatusTooManyRequests, map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"503 with Retry-After", http.StatusServiceUnavailable, map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{"absurd Retry-After is capped", http.StatusTooManyRequests, map[string]string{"Retry-After": "86400"}, maxRetryAfter},
		{"429 without Retry-After", http.StatusTooManyRequests, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			yahooAnswering(t, h, tc.status, tc.header)
			var res steps.DownloadResult
			err := h.run(h.acts.Download, steps.DownloadInput{Ticker: "AAPL", Start: "2024-01-02", End: "2024-02-01"}, &res)
			if err == nil {
				t.Fatal("download from a refusing server succeeded")
			}
			var appErr *temporal.ApplicationError
			if tc.want == 0 {
				if errors.As(err, &appErr) && (appErr.NonRetryable() || appErr.NextRetryDelay() != 0) {
					t.Fatalf("error %v: want an ordinary retryable error", err)
				}
				return
			}
			if !errors.As(err, &appErr) {
				t.Fatalf("error %v is not an ApplicationError", err)
			}
			if appErr.Type() != steps.ErrRateLimited || appErr.NonRetryable() || appErr.NextRetryDelay() != tc.want {
				t.Fatalf("error %v: type %q, non-retryable %v, next retry delay %v; want a retryable %q with delay %v",
					err, appErr.Type(), appErr.NonRetryable(), appErr.NextRetryDelay(), steps.ErrRateLimited, tc.want)
			}
		})
	}
}
