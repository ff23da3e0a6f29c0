package blobtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// FaultProxy is an HTTP reverse proxy in front of a GCS endpoint (a fake
// GCS server) that answers chosen requests itself with an error status, as
// GCS does under load (503, 429), on a lost precondition race (412) or
// without permission (403). A store opened on its URL goes through the
// real GCS client, its own retries included, so a test sees what the
// client and blob's classification make of the answers.
type FaultProxy struct {
	URL string // point the GCS client here (blob.WithEndpoint)

	srv   *httptest.Server
	proxy *httputil.ReverseProxy

	mu      sync.Mutex
	rules   []*faultRule
	faulted []Fault
}

// Fault is one request the proxy answered with an error.
type Fault struct {
	Status int
	Method string
	Path   string
}

// Match picks requests by their method, URL and body (read whole).
type Match func(r *http.Request, body []byte) bool

type faultRule struct {
	match Match
	codes []int // statuses still to answer, in order
}

// NewFaultProxy starts a proxy to target (e.g. a fake GCS server's URL).
func NewFaultProxy(target string) (*FaultProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("blobtest: fault proxy target %q: %w", target, err)
	}
	p := &FaultProxy{proxy: httputil.NewSingleHostReverseProxy(u)}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy.
func (p *FaultProxy) Close() { p.srv.Close() }

// Fail answers the next len(codes) requests that match with these
// statuses, one each, in order; rules added earlier are tried first.
func (p *FaultProxy) Fail(match Match, codes ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &faultRule{match: match, codes: codes})
}

// Faulted returns the requests answered with an error so far.
func (p *FaultProxy) Faulted() []Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Fault(nil), p.faulted...)
}

// Pending returns how many error answers the rules still hold.
func (p *FaultProxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.rules {
		n += len(r.codes)
	}
	return n
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	// The whole body is read first, as GCS does before it finalizes an
	// upload and checks its preconditions; forwarded requests get it back.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if code := p.fault(r, body); code != 0 {
		writeGCSError(w, code)
		return
	}
	p.proxy.ServeHTTP(w, r)
}

// fault returns the status to answer r with, or 0 to forward it.
func (p *FaultProxy) fault(r *http.Request, body []byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rule := range p.rules {
		if len(rule.codes) == 0 || !rule.match(r, body) {
			continue
		}
		code := rule.codes[0]
		rule.codes = rule.codes[1:]
		p.faulted = append(p.faulted, Fault{Status: code, Method: r.Method, Path: r.URL.Path})
		return code
	}
	return 0
}

// gcsReasons are the reasons GCS gives with each status.
var gcsReasons = map[int]string{
	http.StatusServiceUnavailable: "backendError",
	http.StatusTooManyRequests:    "rateLimitExceeded",
	http.StatusPreconditionFailed: "conditionNotMet",
	http.StatusForbidden:          "forbidden",
}

// writeGCSError answers as the GCS JSON API does.
func writeGCSError(w http.ResponseWriter, code int) {
	msg := "blobtest: injected " + http.StatusText(code)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"errors": []map[string]string{{"reason": gcsReasons[code], "message": msg}},
	}})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// Uploads matches uploads of objects whose full name (bucket prefix
// included) starts with name: the JSON API names the object in the
// upload's metadata part, or in the name parameter.
func Uploads(name string) Match {
	quoted, _ := json.Marshal(name)
	needle := []byte(`"name":` + strings.TrimSuffix(string(quoted), `"`))
	return func(r *http.Request, body []byte) bool {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/upload/") {
			return false
		}
		return strings.HasPrefix(r.URL.Query().Get("name"), name) || bytes.Contains(body, needle)
	}
}

// Reads matches reads (GET) of objects, content or metadata, whose full
// name starts with name.
func Reads(name string) Match {
	return func(r *http.Request, _ []byte) bool {
		if r.Method != http.MethodGet {
			return false
		}
		_, obj, ok := strings.Cut(r.URL.Path, "/o/")
		return ok && strings.HasPrefix(obj, name)
	}
}

// AnyOf matches what any of ms matches.
func AnyOf(ms ...Match) Match {
	return func(r *http.Request, body []byte) bool {
		for _, m := range ms {
			if m(r, body) {
				return true
			}
		}
		return false
	}
}
