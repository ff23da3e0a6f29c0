package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/sharedtest"
)

// fuzzBoundary is the multipart boundary of FuzzPredictBody's kind 2.
const fuzzBoundary = "FuzzBoundary"

// Kinds of body FuzzPredictBody sends (kind % 4).
const (
	fuzzJSON          = iota // application/json
	fuzzCSV                  // text/csv, ?ticker=NFLX unless the query names one
	fuzzMultipart            // multipart/form-data with fuzzBoundary
	fuzzBoundaryParam        // multipart/form-data with the query as the boundary
)

// leakMarkers must not appear in an answer unless the request held them:
// signs of a Go stack trace or a server path.
var leakMarkers = []string{"/work/", "goroutine ", ".go:"}

// fuzzRequest builds a POST /predict of the given kind.
func fuzzRequest(kind uint8, query string, body []byte) *http.Request {
	q, _ := url.ParseQuery(query) // what parses; a bad pair is left out
	var ctype string
	switch kind % 4 {
	case fuzzJSON:
		ctype = "application/json"
	case fuzzCSV:
		ctype = "text/csv"
		if q.Get("ticker") == "" {
			q.Set("ticker", "NFLX")
		}
	case fuzzMultipart:
		ctype = "multipart/form-data; boundary=" + fuzzBoundary
	default:
		if ctype = mime.FormatMediaType("multipart/form-data", map[string]string{"boundary": query}); ctype == "" {
			ctype = "multipart/form-data; boundary=" + query // malformed: a 415
		}
		q = nil
	}
	req := httptest.NewRequest(http.MethodPost, "/predict?"+q.Encode(), bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	return req
}

// csvHead is the header and the first n rows of a shared data file.
func csvHead(tb testing.TB, n int, parts ...string) string {
	tb.Helper()
	f, err := os.Open(sharedtest.Path(tb, parts...))
	if err != nil {
		tb.Fatalf("open seed file: %v", err)
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for i := 0; i <= n && sc.Scan(); i++ {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

// form is a multipart body with boundary fuzzBoundary, each part a
// name and its content, closed unless cut.
func form(cut bool, parts ...[2]string) []byte {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q; filename=\"prices.csv\"\r\n\r\n%s\r\n", fuzzBoundary, p[0], p[1])
	}
	if !cut {
		b.WriteString("--" + fuzzBoundary + "--\r\n")
	}
	return []byte(b.String())
}

// FuzzPredictBody posts arbitrary bodies to /predict as JSON, as text/csv
// and as multipart forms, to an API over a store with one tiny model
// (NFLX, lookback 50). Every answer must be under 500; an answer other
// than 2xx must be a JSON object with an "error" message and no Go stack
// trace or server path; a 2xx must be JSON.
func FuzzPredictBody(f *testing.F) {
	h, _, _ := newServer(f, api.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	nflx := csvHead(f, 60, "single", "NFLX.csv")
	msft := csvHead(f, 55, "sp500_5yr", "MSFT_data.csv")
	window := string(mustJSON(f, map[string]any{"ticker": "NFLX", "open": opens(lookback)}))
	seeds := []struct {
		kind  uint8
		query string
		body  string
	}{
		{fuzzJSON, "", window},
		{fuzzJSON, "version=1", window},
		{fuzzJSON, "alias=challenger", window},
		{fuzzJSON, "", string(mustJSON(f, map[string]any{"ticker": "nflx", "windows": []any{map[string]any{"open": opens(lookback)}, map[string]any{"open": opens(3)}}}))},
		{fuzzJSON, "", `{"ticker":"NFLX","open":[1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308]}`},
		{fuzzJSON, "", `{"ticker":"NFLX","open":[5e-324],"volume":[0]}`},
		{fuzzJSON, "", `{"ticker":"../x","open":[1]}`},
		{fuzzJSON, "", `{"ticker":"NFLX","open":[1],"windows":[]}`},
		{fuzzJSON, "", `{"ticker":"NFLX","open":"x"}`},
		{fuzzJSON, "", `{} {}`},
		{fuzzJSON, "", ""},
		{fuzzCSV, "", nflx},
		{fuzzCSV, "ticker=", msft},
		{fuzzCSV, "date_format=DD/MM/YYYY&decimal=,&columns=date=Date", nflx},
		{fuzzCSV, "", "\ufeff" + strings.ReplaceAll(nflx, "\n", "\r\n")},
		{fuzzCSV, "", "Date,Open,High,Low,Close,Volume\n2019-12-02,1,2,0.5,1.5,\"unterminated\n"},
		{fuzzMultipart, "", string(form(false, [2]string{"ticker", "NFLX"}, [2]string{"file", nflx}))},
		{fuzzMultipart, "", string(form(false, [2]string{"file", nflx}, [2]string{"ticker", "nflx"}))},
		{fuzzMultipart, "", string(form(false, [2]string{"file", msft}, [2]string{"date_format", "YYYY-MM-DD"}))},
		{fuzzMultipart, "", string(form(false, [2]string{"file", msft}))}, // the file's own ticker, MSFT: no model
		{fuzzMultipart, "", string(form(false, [2]string{"other", "x"}))},
		{fuzzMultipart, "", string(form(true, [2]string{"ticker", "NFLX"}))},
		{fuzzMultipart, "", ""},
		{fuzzBoundaryParam, fuzzBoundary, string(form(false, [2]string{"file", nflx}))},
		{fuzzBoundaryParam, "", "x"},
		{fuzzBoundaryParam, "a\"b;c", "x"},
	}
	for _, s := range seeds {
		f.Add(s.kind, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, kind uint8, query string, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, fuzzRequest(kind, query, body))
		checkFuzzAnswer(t, rec, query, body)
	})
}

// checkFuzzAnswer checks an answer to FuzzPredictBody's request.
func checkFuzzAnswer(t *testing.T, rec *httptest.ResponseRecorder, query string, body []byte) {
	t.Helper()
	got := rec.Body.Bytes()
	if rec.Code >= 500 {
		t.Fatalf("answer %d: %s", rec.Code, got)
	}
	if rec.Code < 300 {
		if !json.Valid(got) {
			t.Fatalf("answer %d is not JSON: %q", rec.Code, got)
		}
		return
	}
	var e struct {
		Error string `json:"error"`
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("answer %d has Content-Type %q: %s", rec.Code, ct, got)
	}
	if err := json.Unmarshal(got, &e); err != nil || e.Error == "" {
		t.Fatalf("answer %d has no error message (%v): %s", rec.Code, err, got)
	}
	for _, m := range leakMarkers {
		if bytes.Contains(got, []byte(m)) && !bytes.Contains(body, []byte(m)) && !strings.Contains(query, m) {
			t.Fatalf("answer %d shows %q: %s", rec.Code, m, got)
		}
	}
}
