package yahoo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeYahoo is a local chart API: it answers every request with the
// configured status, headers and body and records what it was asked.
type fakeYahoo struct {
	status int
	header map[string]string
	body   string

	mu       sync.Mutex
	requests []*http.Request
}

func (f *fakeYahoo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	f.mu.Unlock()
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	w.Write([]byte(f.body))
}

func (f *fakeYahoo) calls() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

// serve starts f and returns a client pointed at it.
func serve(t *testing.T, f *fakeYahoo) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, HTTP: srv.Client(), UserAgent: "finsight-test/1"}
}

// series is one chart answer's rows; nil values are JSON null.
type series struct {
	tz        string
	gmtoffset int
	ts        []int64
	open      []any
	high      []any
	low       []any
	close     []any
	adj       []any
	volume    []any
}

func (s series) json(t *testing.T) string {
	t.Helper()
	result := map[string]any{
		"meta": map[string]any{
			"symbol": "NFLX", "currency": "USD",
			"exchangeTimezoneName": s.tz, "gmtoffset": s.gmtoffset,
		},
		"timestamp": s.ts,
		"indicators": map[string]any{
			"quote": []any{map[string]any{
				"open": s.open, "high": s.high, "low": s.low, "close": s.close, "volume": s.volume,
			}},
			"adjclose": []any{map[string]any{"adjclose": s.adj}},
		},
	}
	out, err := json.Marshal(map[string]any{"chart": map[string]any{"result": []any{result}, "error": nil}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// nyOpen returns the unix time of 09:30 New York on the given day.
func nyOpen(t *testing.T, y int, m time.Month, d int) int64 {
	t.Helper()
	return time.Date(y, m, d, 9, 30, 0, 0, newYork(t)).Unix()
}

func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// threeDays is NFLX on 2024-01-02..04 with the middle day partly null.
func threeDays(t *testing.T) series {
	return series{
		tz: "America/New_York", gmtoffset: -18000,
		ts:     []int64{nyOpen(t, 2024, 1, 2), nyOpen(t, 2024, 1, 3), nyOpen(t, 2024, 1, 4)},
		open:   []any{486.25, nil, 470.5},
		high:   []any{490.0, nil, 478.0},
		low:    []any{480.0, nil, 466.25},
		close:  []any{485.5, nil, 474.75},
		adj:    []any{485.5, nil, 474.75},
		volume: []any{3900000, nil, 4100000},
	}
}
