package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/memstat"
)

// malformed is a request that is wrong in its body, its Content-Type or
// its size, and the 4xx it must get.
type malformed struct {
	name   string
	path   string
	ctype  string
	auth   string
	body   []byte
	length int64 // a declared Content-Length other than the body's (0: the body's)
	status int
}

// junk is n bytes of seeded noise: not JSON, not CSV, not UTF-8.
func junk(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// nested is a JSON value nested depth arrays deep.
func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// rawMultipart is a multipart body written by hand (so it can be wrong),
// with boundary B.
func rawMultipart(parts ...string) []byte {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--B\r\n")
		b.WriteString(p)
		b.WriteString("\r\n")
	}
	b.WriteString("--B--\r\n")
	return []byte(b.String())
}

const formFile = "Content-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\nContent-Type: text/csv\r\n\r\n"

// malformedCases are at least 25 malformed requests across JSON (/predict
// single and batch, /train, promote), multipart (/predict and /train
// uploads) and CSV (/predict's text/csv).
func malformedCases(t *testing.T) []malformed {
	t.Helper()
	csv := priceCSV(opens(60))
	form, formCT := oasForm(t, [2]string{"ticker", "NFLX"}, [2]string{"file", csv})
	const j, mp = "application/json", "multipart/form-data; boundary=B"
	return []malformed{
		// JSON /predict, one window.
		{name: "predict binary junk", path: "/predict", ctype: j, body: junk(1, 4096), status: 400},
		{name: "predict truncated JSON", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":[12.1,12.`), status: 400},
		{name: "predict deep nesting", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":` + nested(100000) + `}`), status: 400},
		{name: "predict huge number", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":[1e400,12]}`), status: 400},
		{name: "predict NaN strings", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":["NaN","Infinity"]}`), status: 400},
		{name: "predict bare NaN", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":[NaN]}`), status: 400},
		{name: "predict negative and zero prices", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":[12,0,-3]}`), status: 400},
		{name: "predict ticker of the wrong type", path: "/predict", ctype: j, body: []byte(`{"ticker":42,"open":[12]}`), status: 400},
		{name: "predict open of the wrong type", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":{"0":12}}`), status: 400},
		{name: "predict null", path: "/predict", ctype: j, body: []byte(`null`), status: 400},
		{name: "predict empty body", path: "/predict", ctype: j, body: nil, status: 400},
		{name: "predict two values", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":[12]} {}`), status: 400},
		{name: "predict top-level array", path: "/predict", ctype: j, body: []byte(`[12,13,14]`), status: 400},
		{name: "predict ticker not UTF-8", path: "/predict", ctype: j, body: []byte("{\"ticker\":\"\xff\xfe\",\"open\":[12]}"), status: 400},
		{name: "predict ticker path", path: "/predict", ctype: j, body: []byte(`{"ticker":"../../etc","open":[12]}`), status: 400},
		{name: "predict oversize", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":[` + strings.Repeat("12.5,", 1<<20/5) + `12.5]}`), status: 413},
		{name: "predict XML", path: "/predict", ctype: "application/xml", body: []byte(`<predict/>`), status: 415},
		{name: "predict malformed Content-Type", path: "/predict", ctype: "application/json; charset", body: []byte(`{}`), status: 415},

		// JSON /predict, a batch.
		{name: "batch windows not a list", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","windows":"all"}`), status: 400},
		{name: "batch no windows", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","windows":[]}`), status: 400},
		{name: "batch window of the wrong type", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","windows":[[12,13],"x",null]}`), status: 400},
		{name: "batch unknown window field", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","windows":[{"open":[12],"vwap":[1]}]}`), status: 400},
		{name: "batch NaN string", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","windows":[["NaN"]]}`), status: 400},
		{name: "batch huge number", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","windows":[[1e999]]}`), status: 400},
		{name: "batch deep nesting", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","windows":` + nested(20000) + `}`), status: 400},
		{name: "batch and open", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":[12],"windows":[[12]]}`), status: 400},

		// JSON /train and promote.
		{name: "train binary junk", path: "/train", ctype: j, auth: bearerAuth, body: junk(2, 2048), status: 400},
		{name: "train truncated JSON", path: "/train", ctype: j, auth: bearerAuth, body: []byte(`{"ticker":"NF`), status: 400},
		{name: "train wrong type", path: "/train", ctype: j, auth: bearerAuth, body: []byte(`{"ticker":"NFLX","epochs":"ten"}`), status: 400},
		{name: "train huge number", path: "/train", ctype: j, auth: bearerAuth, body: []byte(`{"ticker":"NFLX","epochs":1e400}`), status: 400},
		{name: "train NaN", path: "/train", ctype: j, auth: bearerAuth, body: []byte(`{"ticker":"NFLX","lr":"NaN"}`), status: 400},
		{name: "train deep nesting", path: "/train", ctype: j, auth: bearerAuth, body: []byte(`{"ticker":` + nested(50000) + `}`), status: 400},
		{name: "train top-level array", path: "/train", ctype: j, auth: bearerAuth, body: []byte(`[{"ticker":"NFLX"}]`), status: 400},
		{name: "train oversize", path: "/train", ctype: j, auth: bearerAuth, body: []byte(`{"ticker":"` + strings.Repeat("N", 1<<20) + `"}`), status: 413},
		{name: "train XML", path: "/train", ctype: "application/xml", auth: bearerAuth, body: []byte(`<train/>`), status: 415},
		// A form cut off between two parts (Go's reader alone takes it for complete).
		{name: "predict form cut between parts", path: "/predict", ctype: mp,
			body: []byte("--B\r\nContent-Disposition: form-data; name=\"ticker\"\r\n\r\nNFLX\r\n--B\r\n" + formFile + csv + "\r\n--B\r\nContent-Disposition: form-da"), status: 400},
		{name: "train form cut between parts", path: "/train", ctype: mp, auth: bearerAuth,
			body: []byte("--B\r\nContent-Disposition: form-data; name=\"ticker\"\r\n\r\nNFLX\r\n--B\r\n" + formFile + csv + "\r\n--B\r\nContent-Disposition: form-data; name=\"epo"), status: 400},
		{name: "promote huge version", path: "/models/NFLX/promote", ctype: j, auth: bearerAuth, body: []byte(`{"version":1e999}`), status: 400},
		{name: "promote version as text", path: "/models/NFLX/promote", ctype: j, auth: bearerAuth, body: []byte(`{"version":"1"}`), status: 400},
		{name: "promote negative version", path: "/models/NFLX/promote", ctype: j, auth: bearerAuth, body: []byte(`{"version":-1}`), status: 400},
		{name: "promote binary junk", path: "/models/NFLX/promote", ctype: j, auth: bearerAuth, body: junk(3, 512), status: 400},
		{name: "promote truncated", path: "/models/NFLX/promote", ctype: j, auth: bearerAuth, body: []byte(`{"version":`), status: 400},
		{name: "promote form", path: "/models/NFLX/promote", ctype: formCT, auth: bearerAuth, body: form, status: 415},

		// Multipart /predict.
		{name: "upload without boundary", path: "/predict", ctype: "multipart/form-data", body: form, status: 400},
		{name: "upload binary junk", path: "/predict", ctype: mp, body: junk(4, 4096), status: 400},
		{name: "upload part headers junk", path: "/predict", ctype: mp,
			body: rawMultipart("Content-Disposition: form-data; name=\"file\"\r\n\x00\x01no colon here\r\n\r\n" + csv), status: 400},
		{name: "upload truncated", path: "/predict", ctype: mp, body: rawMultipart(formFile + csv)[:200], status: 400},
		{name: "upload no file", path: "/predict", ctype: formCT, body: mustForm(t, [2]string{"ticker", "NFLX"}), status: 400},
		{name: "upload two files", path: "/predict", ctype: mp, body: rawMultipart(formFile+csv, formFile+csv), status: 400},
		{name: "upload unknown field", path: "/predict", ctype: mp, body: rawMultipart("Content-Disposition: form-data; name=\"tickr\"\r\n\r\nNFLX", formFile+csv), status: 400},
		{name: "upload junk file", path: "/predict?ticker=NFLX", ctype: mp, body: rawMultipart(formFile + string(junk(5, 2048))), status: 400},
		{name: "upload field too long", path: "/predict", ctype: mp, body: rawMultipart("Content-Disposition: form-data; name=\"ticker\"\r\n\r\n"+strings.Repeat("N", 4096), formFile+csv), status: 400},
		{name: "upload declared oversize", path: "/predict", ctype: formCT, body: form, length: 40 << 20, status: 413},
		{name: "upload quoted boundary unterminated", path: "/predict", ctype: `multipart/form-data; boundary="B`, body: form, status: 415},

		// Multipart /train.
		{name: "train upload without boundary", path: "/train", ctype: "multipart/form-data", auth: bearerAuth, body: form, status: 400},
		{name: "train upload part headers junk", path: "/train", ctype: mp, auth: bearerAuth,
			body: rawMultipart("Content-Disposition: form-data; name=\"ticker\"\r\nbroken header\r\n\r\nNFLX"), status: 400},
		{name: "train upload wrong type", path: "/train", ctype: mp, auth: bearerAuth,
			body: rawMultipart("Content-Disposition: form-data; name=\"ticker\"\r\n\r\nNFLX", "Content-Disposition: form-data; name=\"epochs\"\r\n\r\nten", formFile+priceRows), status: 400},
		{name: "train upload truncated", path: "/train", ctype: mp, auth: bearerAuth, body: rawMultipart("Content-Disposition: form-data; name=\"ticker\"\r\n\r\nNFLX", formFile+priceRows)[:150], status: 400},
		{name: "train upload binary junk", path: "/train", ctype: mp, auth: bearerAuth, body: junk(6, 4096), status: 400},

		// CSV /predict.
		{name: "csv with NUL", path: "/predict?ticker=NFLX", ctype: "text/csv", body: []byte(strings.Replace(csv, "2021-03-02", "2021-03\x0002", 1)), status: 400},
		{name: "csv all NUL", path: "/predict?ticker=NFLX", ctype: "text/csv", body: make([]byte, 4096), status: 400},
		{name: "csv binary junk", path: "/predict?ticker=NFLX", ctype: "text/csv", body: junk(7, 8192), status: 400},
		{name: "csv header only", path: "/predict?ticker=NFLX", ctype: "text/csv", body: []byte("Date,Open,High,Low,Close,Adj Close,Volume\n"), status: 400},
		{name: "csv huge numbers", path: "/predict?ticker=NFLX", ctype: "text/csv", body: []byte(strings.ReplaceAll(csv, ",1000\n", ",1e400\n")), status: 400},
		{name: "csv NaN prices", path: "/predict?ticker=NFLX", ctype: "text/csv", body: []byte(strings.Replace(csv, ",12,", ",NaN,", -1) + "2021-06-01,NaN,NaN,NaN,NaN,NaN,1\n"), status: 400},
		{name: "csv bad decimal", path: "/predict?ticker=NFLX&decimal=%3B", ctype: "text/csv", body: []byte(csv), status: 400},
		{name: "csv bad date format", path: "/predict?ticker=NFLX&date_format=QQ", ctype: "text/csv", body: []byte(csv), status: 400},
		{name: "csv bad columns", path: "/predict?ticker=NFLX&columns=when=Day", ctype: "text/csv", body: []byte(csv), status: 400},
		{name: "csv no ticker", path: "/predict", ctype: "text/csv", body: []byte(csv), status: 400},
		{name: "csv bad version", path: "/predict?ticker=NFLX&version=two", ctype: "text/csv", body: []byte(csv), status: 400},
		{name: "csv declared oversize", path: "/predict?ticker=NFLX", ctype: "text/csv", body: []byte(csv), length: 33 << 20, status: 413},
	}
}

func mustForm(t *testing.T, fields ...[2]string) []byte {
	t.Helper()
	b, _ := oasForm(t, fields...)
	return b
}

// newMalformedServer serves NFLX v1 (its champion) with the workflow
// routes on (a fake Temporal), logging nowhere.
func newMalformedServer(t *testing.T) http.Handler {
	t.Helper()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	registerModel(t, store, "NFLX", "r1", 1)
	promote(t, store, "NFLX", 1)
	if err := blob.PutBytes(context.Background(), store, pricesKey, []byte(priceRows)); err != nil {
		t.Fatal(err)
	}
	srv := api.New(store, gotch.CPU, api.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	if err := srv.EnableWorkflows(api.WorkflowsConfig{Client: newFakeTemporal(), TaskQueue: wfQueue, Tokens: []string{apiToken}}); err != nil {
		t.Fatal(err)
	}
	return srv.Handler()
}

func (m malformed) request() *http.Request {
	req := httptest.NewRequest(http.MethodPost, m.path, bytes.NewReader(m.body))
	if m.ctype != "" {
		req.Header.Set("Content-Type", m.ctype)
	}
	if m.auth != "" {
		req.Header.Set("Authorization", m.auth)
	}
	if m.length != 0 {
		req.ContentLength = m.length
	}
	return req
}

// checkJSONError checks a 4xx JSON {"error": ...} answer.
func checkJSONError(t *testing.T, what string, status int, header http.Header, body []byte, want int) {
	t.Helper()
	if status >= 500 || status < 400 || (want != 0 && status != want) {
		t.Errorf("%s: status %d, want %d; body %.200q", what, status, want, body)
		return
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want JSON", what, ct)
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("%s: body %.200q is not a JSON object: %v", what, body, err)
		return
	}
	if msg, _ := e["error"].(string); strings.TrimSpace(msg) == "" {
		t.Errorf("%s: body %.200s has no error message", what, body)
	}
}

// Malformed JSON, multipart and CSV bodies each get a 4xx JSON error,
// never a 5xx or HTML.
func TestMalformedRequestsGet4xxJSON(t *testing.T) {
	h := newMalformedServer(t)
	cases := malformedCases(t)
	if len(cases) < 25 {
		t.Fatalf("%d cases, want at least 25", len(cases))
	}
	for _, m := range cases {
		t.Run(m.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, m.request())
			checkJSONError(t, m.name, rec.Code, rec.Header(), rec.Body.Bytes(), m.status)
		})
	}
}

// 10,000 malformed requests leave the API's resident memory within 10% of
// what it was after a warm-up.
func TestMalformedRequestsDoNotGrowMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 10,000 requests")
	}
	srv := httptest.NewServer(newMalformedServer(t))
	t.Cleanup(srv.Close)
	var mix []malformed
	var oversize malformed
	for _, m := range malformedCases(t) {
		switch {
		case m.length != 0: // a declared length the client cannot send
		case len(m.body) > 64<<10:
			if m.name == "predict oversize" {
				oversize = m
			}
		default:
			mix = append(mix, m)
		}
	}
	client := srv.Client()
	send := func(n, offset int) {
		t.Helper()
		const workers = 4
		var wg sync.WaitGroup
		var mu sync.Mutex
		failures := 0
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					m := mix[(i+offset)%len(mix)]
					if i%1000 == 999 {
						m = oversize // now and then, a body over the limit
					}
					req, err := http.NewRequest(http.MethodPost, srv.URL+m.path, bytes.NewReader(m.body))
					if err != nil {
						panic(err)
					}
					if m.ctype != "" {
						req.Header.Set("Content-Type", m.ctype)
					}
					if m.auth != "" {
						req.Header.Set("Authorization", m.auth)
					}
					resp, err := client.Do(req)
					if err != nil {
						mu.Lock()
						failures++
						if failures <= 3 {
							t.Errorf("%s: %v", m.name, err)
						}
						mu.Unlock()
						continue
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode < 400 || resp.StatusCode >= 500 {
						mu.Lock()
						failures++
						if failures <= 3 {
							t.Errorf("%s: status %d, body %.200q", m.name, resp.StatusCode, body)
						}
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if failures > 0 {
			t.Fatalf("%d of %d requests failed or got no 4xx", failures, n)
		}
	}
	rss := func() int64 {
		t.Helper()
		client.CloseIdleConnections()
		runtime.GC()
		debug.FreeOSMemory()
		kb, err := memstat.ResidentKB()
		if err != nil {
			t.Skipf("no resident memory to compare: %v", err)
		}
		return kb
	}

	send(500, 0) // warm up: lazy initialisation, pools, the model's first load
	before, goroutines := rss(), runtime.NumGoroutine()
	start := time.Now()
	send(10000, 7)
	took := time.Since(start)
	after := rss()
	t.Logf("10,000 malformed requests (%d kinds) in %v: RSS %d KiB before, %d KiB after (%+.1f%%); goroutines %d before, %d after",
		len(mix)+1, took.Round(time.Millisecond), before, after, 100*float64(after-before)/float64(before), goroutines, runtime.NumGoroutine())
	if float64(after) > 1.10*float64(before) {
		t.Errorf("RSS grew from %d KiB to %d KiB (more than 10%%) over 10,000 malformed requests", before, after)
	}
}
