package api_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
)

// The API's hardening (issue 17): the http.Server's limits (slowloris,
// oversized headers), a body limit on every route, no stack trace or
// internal path in an answer, no token in a log line, CORS off unless
// configured, and path traversal refused on every path parameter.

// hardRun is the run the hardened server's store holds.
const hardRun = "train-NFLX-0123abcd-00000001"

// hardened is a server with every route on (workflows with a fake
// Temporal, the GCS hook), over a store with a model, a run, a plot and
// a price file, logging at debug level into logs.
type hardened struct {
	h      http.Handler
	engine *gin.Engine
	dir    string // the store's folder
	logs   *sharedtest.SyncBuffer
}

func newHardened(t *testing.T, opts ...api.Option) *hardened {
	t.Helper()
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	registerModel(t, store, "NFLX", "r1", 1)
	promote(t, store, "NFLX", 1)
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := runs.Write(ctx, store, runs.Record{ID: hardRun, Ticker: "NFLX", Status: "completed", StartedAt: start}); err != nil {
		t.Fatal(err)
	}
	for key, b := range map[string][]byte{
		runs.ReportKey(hardRun):               []byte("<!doctype html><p>report</p>"),
		runs.PlotsDir(hardRun) + "prices.png": pngBytes,
		pricesKey:                             []byte(priceRows),
	} {
		if err := blob.PutBytes(ctx, store, key, b); err != nil {
			t.Fatal(err)
		}
	}
	logs := &sharedtest.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := api.New(store, gotch.CPU, append([]api.Option{api.WithLogger(logger)}, opts...)...)
	t.Cleanup(srv.Close)
	if err := srv.EnableWorkflows(api.WorkflowsConfig{Client: newFakeTemporal(), TaskQueue: wfQueue, Tokens: []string{apiToken}, Timeout: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := srv.EnableGCSHook(api.HookConfig{Token: hookToken, Bucket: hookBucket, TaskQueue: hookQueue, Starter: &fakeStarter{}}); err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	engine, ok := h.(*gin.Engine)
	if !ok {
		t.Fatalf("Handler is a %T, not a *gin.Engine", h)
	}
	return &hardened{h: h, engine: engine, dir: dir, logs: logs}
}

// paramValue is a valid value of a path parameter of the hardened server.
func paramValue(name string) string {
	switch name {
	case "ticker":
		return "NFLX"
	case "name":
		return "prices.png"
	}
	return hardRun
}

// fillRoute writes a Gin route's path with each parameter valid, but the
// one named evil, which is evilValue (written as is: already escaped as it
// is to go on the request line).
func fillRoute(route, evil, evilValue string) string {
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if len(s) > 1 && (s[0] == ':' || s[0] == '*') {
			if s[1:] == evil {
				segs[i] = evilValue
			} else {
				segs[i] = paramValue(s[1:])
			}
		}
	}
	return strings.Join(segs, "/")
}

// routeParams are the names of a route's path parameters.
func routeParams(route string) []string {
	var out []string
	for _, s := range strings.Split(route, "/") {
		if len(s) > 1 && (s[0] == ':' || s[0] == '*') {
			out = append(out, s[1:])
		}
	}
	return out
}

// serve runs h on 127.0.0.1 in the server NewHTTPServer builds, with
// limits, and returns its address.
func serve(t *testing.T, h http.Handler, limits api.HTTPLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := api.NewHTTPServer(ln.Addr().String(), h, limits)
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// waitClosed reads conn until the server closes it, failing the test if
// that takes longer than within; it returns how long it took and what
// was read.
func waitClosed(t *testing.T, conn net.Conn, within time.Duration) (time.Duration, []byte) {
	t.Helper()
	start := time.Now()
	if err := conn.SetReadDeadline(start.Add(within)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	took := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server still held the connection after %v (read %q)", within, got)
	}
	return took, got
}

// healthy fails the test unless GET /healthz on addr answers 200.
func healthy(t *testing.T, addr string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("a normal request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a normal request: status %d", resp.StatusCode)
	}
}

// A zero HTTPLimits is the documented defaults; a field set is kept.
func TestNewHTTPServerDefaults(t *testing.T) {
	hs := api.NewHTTPServer("127.0.0.1:0", http.NotFoundHandler(), api.HTTPLimits{})
	want := api.DefaultHTTPLimits()
	if want.ReadHeaderTimeout != 5*time.Second || want.ReadTimeout != 60*time.Second || want.WriteTimeout != 120*time.Second ||
		want.IdleTimeout != 120*time.Second || want.MaxHeaderBytes != 64<<10 {
		t.Errorf("defaults %+v", want)
	}
	got := api.HTTPLimits{ReadHeaderTimeout: hs.ReadHeaderTimeout, ReadTimeout: hs.ReadTimeout, WriteTimeout: hs.WriteTimeout,
		IdleTimeout: hs.IdleTimeout, MaxHeaderBytes: hs.MaxHeaderBytes}
	if got != want || hs.Addr != "127.0.0.1:0" || hs.Handler == nil {
		t.Errorf("server limits %+v, want %+v", got, want)
	}
	hs = api.NewHTTPServer("", http.NotFoundHandler(), api.HTTPLimits{ReadTimeout: time.Second, MaxHeaderBytes: 1000})
	if hs.ReadTimeout != time.Second || hs.MaxHeaderBytes != 1000 || hs.ReadHeaderTimeout != want.ReadHeaderTimeout || hs.WriteTimeout != want.WriteTimeout {
		t.Errorf("partial limits: %+v", hs)
	}
}

// The settings the API binary passes to NewHTTPServer, and its CORS
// origins, come from the environment, "" being the default; a bad value
// is an error naming its variable.
func TestAPIServerSettingsFromConfig(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	l, err := config.FromEnv(getenv).APIServerLimits()
	d := api.DefaultHTTPLimits()
	if err != nil || l.ReadHeaderTimeout != d.ReadHeaderTimeout || l.ReadTimeout != d.ReadTimeout || l.WriteTimeout != d.WriteTimeout ||
		l.IdleTimeout != d.IdleTimeout || l.MaxHeaderBytes != d.MaxHeaderBytes {
		t.Errorf("defaults: %+v, %v; want the API's %+v", l, err, d)
	}
	if o := config.FromEnv(getenv).CORSOriginList(); len(o) != 0 {
		t.Errorf("CORS origins by default: %q", o)
	}
	env = map[string]string{"FINSIGHT_API_READ_HEADER_TIMEOUT": "2s", "FINSIGHT_API_READ_TIMEOUT": "90s", "FINSIGHT_API_WRITE_TIMEOUT": "3m",
		"FINSIGHT_API_IDLE_TIMEOUT": "30s", "FINSIGHT_API_MAX_HEADER_BYTES": "16384", "FINSIGHT_CORS_ORIGINS": " https://a.example, ,https://b.example:8443 "}
	c := config.FromEnv(getenv)
	l, err = c.APIServerLimits()
	if err != nil || l.ReadHeaderTimeout != 2*time.Second || l.ReadTimeout != 90*time.Second || l.WriteTimeout != 3*time.Minute ||
		l.IdleTimeout != 30*time.Second || l.MaxHeaderBytes != 16384 {
		t.Errorf("set: %+v, %v", l, err)
	}
	if o := c.CORSOriginList(); fmt.Sprint(o) != "[https://a.example https://b.example:8443]" {
		t.Errorf("CORS origins %q", o)
	}
	for k, v := range map[string]string{"FINSIGHT_API_READ_TIMEOUT": "soon", "FINSIGHT_API_IDLE_TIMEOUT": "-1s", "FINSIGHT_API_MAX_HEADER_BYTES": "64k"} {
		env = map[string]string{k: v}
		if _, err := config.FromEnv(getenv).APIServerLimits(); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming it", k, v, err)
		}
	}
}

// A client that sends its request line and headers slowly (slowloris) is
// disconnected once ReadHeaderTimeout has passed, though it keeps
// sending; a normal request is served meanwhile.
func TestSlowlorisHeadersAreCutOff(t *testing.T) {
	const limit = 300 * time.Millisecond
	addr := serve(t, newHardened(t).h, api.HTTPLimits{ReadHeaderTimeout: limit, ReadTimeout: 10 * time.Second})
	dialed := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a header line every 50 ms, for ever
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: finsight\r\n"); err != nil {
			return
		}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := fmt.Fprintf(conn, "X-Drip-%d: 1\r\n", i); err != nil {
				return
			}
		}
	}()
	time.Sleep(limit / 3)
	healthy(t, addr)
	_, got := waitClosed(t, conn, 10*limit)
	held := time.Since(dialed)
	if len(got) != 0 && !bytes.HasPrefix(got, []byte("HTTP/1.1 4")) {
		t.Errorf("the slow client got %q", got)
	}
	if held > 5*limit || held < limit*4/5 {
		t.Errorf("the slow client was held %v, limit %v", held, limit)
	}
	t.Logf("slow headers: connection closed %v after it opened (ReadHeaderTimeout %v)", held.Round(time.Millisecond), limit)
	healthy(t, addr)
}

// A client that sends its body slowly is disconnected once ReadTimeout
// has passed; so is a keep-alive connection idle past IdleTimeout.
func TestSlowBodyAndIdleConnectionsAreCutOff(t *testing.T) {
	const limit = 400 * time.Millisecond
	addr := serve(t, newHardened(t).h, api.HTTPLimits{ReadHeaderTimeout: limit / 2, ReadTimeout: limit, IdleTimeout: limit})
	t.Run("slow body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			if _, err := io.WriteString(conn, "POST /predict HTTP/1.1\r\nHost: finsight\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"ticker\":\"NFLX\",\"open\":["); err != nil {
				return
			}
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := io.WriteString(conn, "12.5,"); err != nil {
					return
				}
			}
		}()
		took, got := waitClosed(t, conn, 10*limit)
		if took > 5*limit {
			t.Errorf("the slow body was read for %v, limit %v", took, limit)
		}
		if bytes.HasPrefix(got, []byte("HTTP/1.1 2")) {
			t.Errorf("a body cut short got %q", got)
		}
		t.Logf("slow body: connection closed after %v (ReadTimeout %v), answer %.40q", took.Round(time.Millisecond), limit, got)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: finsight\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("status %d, close %v", resp.StatusCode, resp.Close)
		}
		start := time.Now()
		if err := conn.SetReadDeadline(start.Add(10 * limit)); err != nil {
			t.Fatal(err)
		}
		_, err = br.ReadByte()
		var ne net.Error
		if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			t.Fatalf("an idle connection was held past %v: %v", 10*limit, err)
		}
		if took := time.Since(start); took > 5*limit {
			t.Errorf("an idle connection was held %v, limit %v", took, limit)
		}
	})
	healthy(t, addr)
}

// A request whose headers are over MaxHeaderBytes gets 431; one under it
// is served.
func TestOversizedHeadersGet431(t *testing.T) {
	addr := serve(t, newHardened(t).h, api.HTTPLimits{})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		size   int
		status int
	}{{api.DefaultMaxHeaderBytes / 2, http.StatusOK}, {2 * api.DefaultMaxHeaderBytes, http.StatusRequestHeaderFieldsTooLarge}} {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Big", strings.Repeat("b", tc.size))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", tc.size, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%d-byte header: status %d, want %d (%.100q)", tc.size, resp.StatusCode, tc.status, body)
		}
	}
	healthy(t, addr)
}

// countingReader is an endless body of pattern after prefix, counting
// the bytes read from it.
type countingReader struct {
	prefix  []byte
	pattern []byte
	read    atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		off := r.read.Load()
		var src []byte
		if off < int64(len(r.prefix)) {
			src = r.prefix[off:]
		} else {
			k := (off - int64(len(r.prefix))) % int64(len(r.pattern))
			src = r.pattern[k:]
		}
		m := copy(p[n:], src)
		n += m
		r.read.Add(int64(m))
	}
	return n, nil
}

// wantBodyLimit is the body limit of each route, as documented in the
// README: the upload routes 32 MiB, the other routes that read a body
// 1 MiB, those that read none 4 KiB.
func wantBodyLimit(method, route string) int64 {
	switch {
	case method == http.MethodPost && (route == "/predict" || route == "/train" || route == "/retrain"):
		return 32 << 20
	case method == http.MethodPost:
		return 1 << 20
	}
	return 4 << 10
}

// Every route refuses a body over its limit: declared, with 413 before
// reading a byte of it; sent without a length (chunked), with a 413 after
// reading at most the limit (never the whole body), for the routes that
// read one.
func TestBodyLimitOnEveryRoute(t *testing.T) {
	hs := newHardened(t)
	routes := hs.engine.Routes()
	if len(routes) < 20 {
		t.Fatalf("%d routes", len(routes))
	}
	const slack = 64 << 10 // what a reader may buffer past the limit
	for _, r := range routes {
		limit := wantBodyLimit(r.Method, r.Path)
		path := fillRoute(r.Path, "", "")
		if r.Path == "/hooks/gcs" {
			path += "?token=" + hookToken
		}
		t.Run(r.Method+" "+r.Path+" declared", func(t *testing.T) {
			body := &countingReader{pattern: []byte("x")}
			req := httptest.NewRequest(r.Method, path, body)
			req.ContentLength = limit + 1
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", bearerAuth)
			rec := httptest.NewRecorder()
			hs.h.ServeHTTP(rec, req)
			checkJSONError(t, "declared", rec.Code, rec.Header(), rec.Body.Bytes(), http.StatusRequestEntityTooLarge)
			if n := body.read.Load(); n != 0 {
				t.Errorf("read %d bytes of a body declared over the %d-byte limit", n, limit)
			}
		})
		t.Run(r.Method+" "+r.Path+" streamed", func(t *testing.T) {
			// A JSON object whose string never ends: a handler that reads
			// the body reads it up to its limit.
			body := &countingReader{prefix: []byte(`{"ticker":"NFLX","reason":"`), pattern: []byte("aaaaaaaaaaaaaaaa")}
			req := httptest.NewRequest(r.Method, path, body)
			req.ContentLength = -1
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", bearerAuth)
			rec := httptest.NewRecorder()
			done := make(chan struct{})
			go func() { defer close(done); hs.h.ServeHTTP(rec, req) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("no answer within 30 s (read %d bytes)", body.read.Load())
			}
			n := body.read.Load()
			if n > limit+slack {
				t.Errorf("read %d bytes of an endless body, limit %d", n, limit)
			}
			if n > 0 { // the handler read the body: it must have stopped at the limit
				checkJSONError(t, "streamed", rec.Code, rec.Header(), rec.Body.Bytes(), http.StatusRequestEntityTooLarge)
			}
			if r.Method == http.MethodPost && n == 0 {
				t.Errorf("POST %s read none of its body: status %d %.200q", r.Path, rec.Code, rec.Body.Bytes())
			}
		})
	}
	// An upload, endless blank lines after a valid file, is cut at 32 MiB.
	t.Run("POST /predict text/csv streamed", func(t *testing.T) {
		body := &countingReader{prefix: []byte(priceRows), pattern: []byte(strings.Repeat(" ", 1023) + "\n")}
		req := httptest.NewRequest(http.MethodPost, "/predict?ticker=NFLX", body)
		req.ContentLength = -1
		req.Header.Set("Content-Type", "text/csv")
		rec := httptest.NewRecorder()
		hs.h.ServeHTTP(rec, req)
		checkJSONError(t, "upload", rec.Code, rec.Header(), rec.Body.Bytes(), http.StatusRequestEntityTooLarge)
		if n := body.read.Load(); n > 32<<20+slack {
			t.Errorf("read %d bytes of an endless upload", n)
		}
	})
}

// internalDetails are what an answer must never hold: a stack trace, a Go
// source position, a panic, a folder of this machine.
func internalDetails(t *testing.T, extra ...string) []string {
	t.Helper()
	out := []string{"goroutine ", ".go:", "panic", "runtime/", "/work/", os.TempDir() + "/", runtime.GOROOT()}
	if wd, err := os.Getwd(); err == nil {
		out = append(out, wd)
	}
	if home, err := os.UserHomeDir(); err == nil && len(home) > 1 {
		out = append(out, home+"/")
	}
	return append(out, extra...)
}

// leaks reports the first of details in body.
func leaks(body []byte, details []string) (string, bool) {
	for _, d := range details {
		if d != "" && bytes.Contains(body, []byte(d)) {
			return d, true
		}
	}
	return "", false
}

// A handler's panic answers 500 {"error":"internal error"}: JSON, with
// neither the panic's text nor a stack trace; the panic and its stack are
// logged, without the request's token. A panic after the answer started
// cuts it short; http.ErrAbortHandler drops the connection as net/http
// does.
func TestPanicAnswersInternalErrorOnly(t *testing.T) {
	hs := newHardened(t)
	const secret = "boom at /work/main/api/secret.go:12"
	hs.engine.GET("/test/panic", func(*gin.Context) { panic(secret) })
	hs.engine.GET("/test/panic-html", func(c *gin.Context) {
		c.Header("Content-Type", "text/html; charset=utf-8")
		panic(errors.New(secret))
	})
	hs.engine.GET("/test/panic-late", func(c *gin.Context) {
		c.Status(http.StatusOK)
		_, _ = c.Writer.WriteString("partial ")
		panic(secret)
	})
	hs.engine.GET("/test/abort", func(*gin.Context) { panic(http.ErrAbortHandler) })
	srv := httptest.NewServer(hs.h)
	t.Cleanup(srv.Close)
	details := internalDetails(t, secret, "boom", hs.dir)
	for _, path := range []string{"/test/panic", "/test/panic-html"} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path+"?token="+hookToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", bearerAuth)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError || strings.TrimSpace(string(body)) != `{"error":"internal error"}` ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if d, ok := leaks(body, details); ok {
			t.Errorf("%s: the answer holds %q: %s", path, d, body)
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/test/panic-late")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if d, ok := leaks(body, details); ok {
			t.Errorf("late panic: the answer holds %q: %s", d, body)
		}
	}
	if resp, err := srv.Client().Get(srv.URL + "/test/abort"); err == nil {
		resp.Body.Close()
		t.Errorf("ErrAbortHandler: an answer, %d", resp.StatusCode)
	}
	logs := hs.logs.String()
	if !strings.Contains(logs, "panic serving a request") || !strings.Contains(logs, "boom") || !strings.Contains(logs, "goroutine") {
		t.Errorf("the panic and its stack are not logged:\n%s", logs)
	}
	for _, tok := range []string{apiToken, hookToken} {
		if strings.Contains(logs, tok) {
			t.Errorf("a token is logged:\n%s", logs)
		}
	}
	healthy(t, strings.TrimPrefix(srv.URL, "http://"))
}

// Error answers (4xx and 5xx) across the routes, from a working store, a
// corrupt one and one that is down, hold no stack trace, Go source
// position or folder of this machine (the store's included).
func TestErrorAnswersHoldNoInternalDetails(t *testing.T) {
	hs := newHardened(t)
	// A corrupt store (500s), and one refusing every call (503s).
	corruptDir := t.TempDir()
	corrupt, err := blob.NewLocal(corruptDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for key, b := range map[string][]byte{"registry/BAD.json": []byte(`{"ticker":`), runs.Key("bad", "run.json"): []byte(`{"id":`)} {
		if err := blob.PutBytes(ctx, corrupt, key, b); err != nil {
			t.Fatal(err)
		}
	}
	cs := api.New(corrupt, gotch.CPU, api.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(cs.Close)
	if err := cs.EnableWorkflows(api.WorkflowsConfig{Client: newFakeTemporal(), TaskQueue: wfQueue, Tokens: []string{apiToken}}); err != nil {
		t.Fatal(err)
	}
	down, o := newOutageServer(t, api.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err := down.EnableWorkflows(api.WorkflowsConfig{Client: newFakeTemporal(), TaskQueue: wfQueue, Tokens: []string{apiToken}}); err != nil {
		t.Fatal(err)
	}
	o.Down(blobtest.Refuse)
	handlers := map[string]http.Handler{"main": hs.h, "corrupt": cs.Handler(), "down": down.Handler()}
	details := internalDetails(t, hs.dir, corruptDir)

	type req struct{ method, path, ctype, body string }
	bad := []req{
		{"GET", "/models/N$X", "", ""}, {"GET", "/models/TSLA", "", ""}, {"GET", "/models/BAD", "", ""},
		{"GET", "/runs/bad", "", ""}, {"GET", "/runs/none", "", ""}, {"GET", "/runs/a%5Cb/report", "", ""},
		{"GET", "/runs/" + hardRun + "/plots/none.png", "", ""}, {"GET", "/runs/" + hardRun + "/plots/run.json", "", ""},
		{"GET", "/runs?ticker=N$X", "", ""}, {"GET", "/fleets/none", "", ""}, {"GET", "/workflows/a..b", "", ""},
		{"GET", "/ui/models/TSLA", "", ""}, {"GET", "/ui/runs?status=done", "", ""}, {"GET", "/ui/compare?runs=a,b", "", ""},
		{"GET", "/ui/fleets/none", "", ""}, {"GET", "/", "", ""}, {"GET", "/runs", "", ""}, {"GET", "/models", "", ""},
		{"GET", "/no/such/route", "", ""}, {"PUT", "/predict", "", ""},
		{"POST", "/predict", "application/json", `{"ticker":"NFLX","open":[1,2`},
		{"POST", "/predict", "application/json", `{"ticker":"BAD","open":[12.5,12.6]}`},
		{"POST", "/predict", "application/json", `{"ticker":"NFLX","open":[12.5]}`},
		{"POST", "/predict?ticker=NFLX", "text/csv", "Date,Open\nnot-a-date,x\n"},
		{"POST", "/predict", "multipart/form-data; boundary=zz", "--zz\r\nbroken"},
		{"POST", "/train", "application/json", `{"ticker":"NFLX","store_csv":"../../etc/passwd"}`},
		{"POST", "/train", "application/json", `{"ticker":"NFLX","store_csv":"/etc/passwd"}`},
		{"POST", "/retrain", "application/json", `{"ticker":"NFLX","store_csv":"incoming/none.csv"}`},
		{"POST", "/fleet", "application/json", `{"items":[{"ticker":"NFLX","csv_key":"../x.csv"}]}`},
		{"POST", "/fleet", "application/json", `{"prefix":"../"}`},
		{"POST", "/models/BAD/promote", "application/json", `{"version":1}`},
		{"POST", "/models/NFLX/promote", "application/json", `{"version":9}`},
		{"POST", "/models/BAD/rollback", "", ""}, {"POST", "/models/NFLX/rollback", "", ""},
		{"DELETE", "/workflows/train-NFLX-none", "", ""},
		{"POST", "/hooks/gcs?token=" + hookToken, "application/json", `{"message":`},
	}
	answered, scrubbed := 0, 0
	for name, h := range handlers {
		for _, b := range bad {
			r := httptest.NewRequest(b.method, b.path, strings.NewReader(b.body))
			if b.ctype != "" {
				r.Header.Set("Content-Type", b.ctype)
			}
			r.Header.Set("Authorization", bearerAuth)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code < 400 {
				continue
			}
			answered++
			if bytes.Contains(rec.Body.Bytes(), []byte("[store]")) {
				scrubbed++ // the store's folder was named, and replaced
			}
			if d, ok := leaks(rec.Body.Bytes(), details); ok {
				t.Errorf("%s: %s %s: the %d answer holds %q: %.300s", name, b.method, b.path, rec.Code, d, rec.Body.Bytes())
			}
		}
	}
	if scrubbed == 0 {
		t.Error("no answer named the store: the 503s of the store that is down should, as [store]")
	}
	if answered < 2*len(bad) {
		t.Errorf("only %d error answers of %d requests", answered, len(handlers)*len(bad))
	}
}

// Bearer tokens (right, wrong, malformed) and the hook's ?token= never
// appear in a log line, the server's (WithLogger) or slog's default
// logger's, nor in an answer.
func TestTokensAreNeverLogged(t *testing.T) {
	def := &sharedtest.SyncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(def, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	hs := newHardened(t)
	const wrongToken = "wrong-token-5f3c9a7e21"
	const wrongHook = "wrong-hook-token-77d1e0"
	tokens := []string{apiToken, hookToken, wrongToken, wrongHook}
	type req struct{ method, path, auth, ctype, body string }
	reqs := []req{
		{"POST", "/train", bearerAuth, "application/json", `{"ticker":"NFLX","store_csv":"` + pricesKey + `"}`},
		{"POST", "/train", "Bearer " + wrongToken, "application/json", `{"ticker":"NFLX"}`},
		{"POST", "/train", "Token " + apiToken, "application/json", `{"ticker":"NFLX"}`},
		{"POST", "/train", "Basic " + wrongToken, "", ""},
		{"POST", "/retrain", bearerAuth, "application/json", `{"ticker":"NFLX","store_csv":"incoming/none.csv"}`},
		{"POST", "/fleet", bearerAuth, "application/json", `{"items":[{"ticker":"NFLX","csv_key":"` + pricesKey + `"}]}`},
		{"POST", "/models/NFLX/promote", bearerAuth, "application/json", `{"version":1,"reason":"test"}`},
		{"POST", "/models/NFLX/rollback", "Bearer " + wrongToken, "", ""},
		{"DELETE", "/workflows/train-NFLX-none", bearerAuth, "", ""},
		{"GET", "/workflows/train-NFLX-none", bearerAuth, "", ""},
		{"POST", "/hooks/gcs?token=" + hookToken, "", "application/json", `{"message":`},
		{"POST", "/hooks/gcs?token=" + wrongHook, "", "application/json", `{}`},
		{"POST", "/hooks/gcs?token=" + hookToken, "", "application/json", string(mustJSON(t, pushEnvelope(hookBucket, "inbox/NFLX/a.csv", "OBJECT_FINALIZE", generation)))},
		{"GET", "/models/NFLX?token=" + apiToken, bearerAuth, "", ""},
		{"GET", "/no/such/route?token=" + apiToken, "Bearer " + wrongToken, "", ""},
		{"POST", "/predict?token=" + apiToken, bearerAuth, "application/json", `{"ticker":"NFLX","open":[1`},
	}
	var bodies bytes.Buffer
	for i, r := range reqs {
		hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
		if r.auth != "" {
			hr.Header.Set("Authorization", r.auth)
		}
		if r.ctype != "" {
			hr.Header.Set("Content-Type", r.ctype)
		}
		rec := httptest.NewRecorder()
		hs.h.ServeHTTP(rec, hr)
		fmt.Fprintf(&bodies, "request %d → %d %s\n", i, rec.Code, rec.Body.Bytes()) // not its path: it holds tokens
		for k, vs := range rec.Header() {
			fmt.Fprintf(&bodies, "%s: %s\n", k, strings.Join(vs, ", "))
		}
	}
	logs := hs.logs.String() + def.String()
	if !strings.Contains(logs, "route=/train") || !strings.Contains(logs, "route=/hooks/gcs") {
		t.Fatalf("the requests were not logged:\n%s", logs)
	}
	for _, tok := range tokens {
		if strings.Contains(logs, tok) {
			t.Errorf("token %q is in the logs:\n%s", tok, logs)
		}
		// The 404 of an unrouted path names the path, not the query.
		if strings.Contains(bodies.String(), tok) {
			t.Errorf("token %q is in an answer:\n%s", tok, bodies.String())
		}
	}
}

// preflight sends a CORS preflight for method on path from origin.
func preflight(h http.Handler, path, origin, method string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodOptions, path, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// corsHeaders are the Access-Control-* headers of an answer.
func corsHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

// Without WithCORS no answer carries a CORS header, and a preflight gets
// no 2xx, on every route.
func TestCORSOffByDefault(t *testing.T) {
	for name, hs := range map[string]*hardened{"default": newHardened(t), "empty list": newHardened(t, api.WithCORS([]string{" ", ""}))} {
		for _, r := range hs.engine.Routes() {
			path := fillRoute(r.Path, "", "")
			rec := preflight(hs.h, path, "https://evil.example", r.Method)
			if rec.Code < 300 || len(corsHeaders(rec.Header())) > 0 {
				t.Errorf("%s: preflight of %s %s: %d %v", name, r.Method, r.Path, rec.Code, rec.Header())
			}
			if r.Method != http.MethodGet {
				continue
			}
			req := httptest.NewRequest(r.Method, path, nil)
			req.Header.Set("Origin", "https://evil.example")
			rec = httptest.NewRecorder()
			hs.h.ServeHTTP(rec, req)
			if h := corsHeaders(rec.Header()); len(h) > 0 {
				t.Errorf("%s: GET %s from another origin: CORS headers %v", name, r.Path, h)
			}
		}
	}
}

// With WithCORS, a preflight from a listed origin gets 204 with the
// methods and headers the API uses, and its requests
// Access-Control-Allow-Origin; another origin gets no CORS header.
func TestCORSAllowList(t *testing.T) {
	const allowed = "https://dash.example"
	hs := newHardened(t, api.WithCORS([]string{"https://DASH.example/", "http://localhost:3000"}))
	for _, r := range hs.engine.Routes() {
		path := fillRoute(r.Path, "", "")
		rec := preflight(hs.h, path, allowed, r.Method)
		h := rec.Header()
		if rec.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != allowed ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), r.Method) ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") ||
			h.Get("Access-Control-Allow-Credentials") != "" || !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Errorf("preflight of %s %s from %s: %d %v", r.Method, r.Path, allowed, rec.Code, h)
		}
		rec = preflight(hs.h, path, "https://evil.example", r.Method)
		if rec.Code < 300 || len(corsHeaders(rec.Header())) > 0 {
			t.Errorf("preflight of %s %s from another origin: %d %v", r.Method, r.Path, rec.Code, rec.Header())
		}
	}
	for origin, want := range map[string]string{allowed: allowed, "http://localhost:3000": "http://localhost:3000", "https://evil.example": "", "null": ""} {
		req := httptest.NewRequest(http.MethodGet, "/models/NFLX", nil)
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		hs.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != want {
			t.Errorf("GET from %s: %d, Access-Control-Allow-Origin %q, want %q", origin, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), want)
		}
		if want == "" && len(corsHeaders(rec.Header())) > 0 {
			t.Errorf("GET from %s: CORS headers %v", origin, rec.Header())
		}
	}
	// A request without Origin (curl, a server) is served as ever.
	if rec := do(hs.h, http.MethodGet, "/healthz", ""); rec.Code != http.StatusOK || len(corsHeaders(rec.Header())) > 0 {
		t.Errorf("no Origin: %d %v", rec.Code, rec.Header())
	}
}

// traversals are values of a path parameter that try to leave it, each as
// it goes on the request line: dot segments plain, encoded and double
// encoded, slashes and backslashes encoded, NUL, overlong UTF-8, and a
// very long value.
var traversals = []string{
	"..", ".", "../x", "../../etc/passwd", "..%2f", "..%2fx", "%2e%2e", "%2e%2e%2f", "%2e%2e%2fx", "%2e%2e/%2e%2e/etc/passwd",
	"%252e%252e%252f", "%252e%252e%252fx", "..%5c", "..%5cx", "%5c", "%5c..%5c..%5cx", "..%255c", "a%00b", "%00", "x%00.png",
	"%2f", "%2fetc%2fpasswd", "%2F..%2F", `\`, `..\x`, "%c0%ae%c0%ae", "%c0%af", "..;", "%2e", "..%00",
}

// Every path parameter of every route answers a traversal attempt with a
// 4xx, never a 2xx (another object's content), a 3xx or a 5xx, over a
// real connection (the bytes as written on the request line).
func TestPathTraversalOnEveryParameter(t *testing.T) {
	hs := newHardened(t)
	addr := serve(t, hs.h, api.HTTPLimits{ReadHeaderTimeout: 5 * time.Second})
	details := internalDetails(t, hs.dir)
	values := append(append([]string{}, traversals...), strings.Repeat("a", 5<<10), strings.Repeat("..%2f", 1<<10))
	checked := 0
	for _, r := range hs.engine.Routes() {
		for _, param := range routeParams(r.Path) {
			for _, v := range values {
				target := fillRoute(r.Path, param, v)
				status, body := rawRequest(t, addr, r.Method, target)
				checked++
				if status < 400 || status >= 500 {
					t.Errorf("%s %s (:%s = %.40q): status %d, want 4xx; body %.200q", r.Method, r.Path, param, v, status, body)
				}
				if d, ok := leaks(body, details); ok {
					t.Errorf("%s %.80s: the answer holds %q", r.Method, target, d)
				}
			}
		}
	}
	if checked < 300 {
		t.Errorf("only %d requests: too few routes with parameters", checked)
	}
	healthy(t, addr)
}

// rawRequest writes method target on a fresh connection to addr, with the
// token, a JSON body for POST, and returns the answer's status and body
// (status 400 when the server refuses the request line outright).
func rawRequest(t *testing.T, addr, method, target string) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	body := ""
	if method == http.MethodPost {
		body = `{"version":1}`
	}
	_, err = fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: finsight\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		method, target, bearerAuth, len(body), body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %.80s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
