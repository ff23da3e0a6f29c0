package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkPredictSingleWindow is one JSON /predict of 60 Opens through
// the whole handler (decode, checks, manifest from memory, window, forward
// pass of the test's 1×LSTM(8), encode), one request at a time. Profile it
// to see what the JSON costs:
//
//	go test -run '^$' -bench PredictSingleWindow -cpuprofile cpu.out ./api
//	go tool pprof -top cpu.out
func BenchmarkPredictSingleWindow(b *testing.B) {
	h, _, _ := newServer(b)
	body := predictBody(b, "NFLX", opens(60))
	if rec := do(h, http.MethodPost, "/predict", body); rec.Code != http.StatusOK {
		b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
