package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
)

// storeDeadline is the store's call timeout in these tests: short, so that a
// hanging store is noticed at once.
const storeDeadline = 100 * time.Millisecond

// answerBound is how long a request may take while the store is down:
// generous, it only tells "answers" from "hangs".
const answerBound = 20 * time.Second

var outageModes = []blobtest.Mode{blobtest.Hang, blobtest.Refuse}

// newOutageServer serves NFLX v1 and AAPL v1, each its ticker's champion,
// from a local store behind an Outage and deadlines of storeDeadline, as
// blob.Open gives it.
func newOutageServer(t *testing.T, opts ...api.Option) (*api.Server, *blobtest.Outage) {
	t.Helper()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	registerModel(t, local, "NFLX", "r1", 1)
	registerModel(t, local, "AAPL", "r2", 2)
	promote(t, local, "NFLX", 1)
	promote(t, local, "AAPL", 1)
	o := blobtest.NewOutage(local)
	t.Cleanup(o.Up) // releases anything still hanging
	srv := api.New(blob.WithDeadlines(o, storeDeadline), gotch.CPU, opts...)
	t.Cleanup(srv.Close)
	return srv, o
}

// doWithin is do, failing the test if the handler does not answer within
// answerBound.
func doWithin(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- do(h, method, path, body) }()
	select {
	case rec := <-done:
		return rec
	case <-time.After(answerBound):
		t.Fatalf("%s %s: no answer within %s", method, path, answerBound)
		return nil
	}
}

// assertStoreUnavailable checks a 503 JSON answer that says the store is
// unavailable and when to retry.
func assertStoreUnavailable(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	msg := errorMessage(t, rec, http.StatusServiceUnavailable)
	if !strings.Contains(msg, "store unavailable") {
		t.Errorf("error %q does not say the store is unavailable", msg)
	}
	if secs, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q, want a number of seconds", rec.Header().Get("Retry-After"))
	}
}

type predictAnswer struct {
	prediction
	RegistryUnavailable bool `json:"registry_unavailable"`
}

func decodePrediction(t *testing.T, rec *httptest.ResponseRecorder) predictAnswer {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /predict: status %d, body %s", rec.Code, rec.Body)
	}
	var p predictAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return p
}

// TestPredictServesLoadedModelsDuringStoreOutage: a ticker whose model is
// loaded keeps getting the same answers while the store hangs or refuses,
// marked registry_unavailable once the manifest's check (at most a refresh
// interval away) has met the outage; one never loaded gets 503 with
// Retry-After, not a hang, 404 or 500.
func TestPredictServesLoadedModelsDuringStoreOutage(t *testing.T) {
	for _, mode := range outageModes {
		t.Run(mode.String(), func(t *testing.T) {
			srv, o := newOutageServer(t)
			h := srv.Handler()
			body := predictBody(t, "NFLX", opens(60))
			before := decodePrediction(t, doWithin(t, h, http.MethodPost, "/predict", body))
			if before.RegistryUnavailable {
				t.Fatal("registry_unavailable set while the store is up")
			}
			o.Down(mode)
			// Until the manifest's next check meets the outage, the answers
			// come from memory unmarked: nothing has read the store.
			noticed := time.Now().Add(api.DefaultManifestRefresh + 3*time.Second)
			for {
				p := decodePrediction(t, doWithin(t, h, http.MethodPost, "/predict", body))
				if p.ModelVersion != before.ModelVersion || p.Selection != before.Selection || p.Prediction != before.Prediction {
					t.Fatalf("during the outage: %+v, want %+v", p.prediction, before.prediction)
				}
				if p.RegistryUnavailable {
					break
				}
				if time.Now().After(noticed) {
					t.Fatal("registry_unavailable never set: the manifest check did not meet the outage")
				}
				time.Sleep(10 * time.Millisecond)
			}
			for i := range 3 {
				p := decodePrediction(t, doWithin(t, h, http.MethodPost, "/predict", body))
				if p.ModelVersion != before.ModelVersion || p.Selection != before.Selection || p.Prediction != before.Prediction {
					t.Fatalf("request %d during the outage: %+v, want %+v", i, p.prediction, before.prediction)
				}
				if !p.RegistryUnavailable {
					t.Errorf("request %d during the outage: registry_unavailable not set", i)
				}
			}
			if o.Hits() == 0 {
				t.Fatal("no request met the outage: the test proves nothing")
			}
			assertStoreUnavailable(t, doWithin(t, h, http.MethodPost, "/predict", predictBody(t, "AAPL", opens(60))))

			o.Up()
			if rec := doWithin(t, h, http.MethodGet, "/readyz", ""); rec.Code != http.StatusOK {
				t.Fatalf("/readyz after the outage: %d %s", rec.Code, rec.Body)
			}
			if p := decodePrediction(t, doWithin(t, h, http.MethodPost, "/predict", body)); p.RegistryUnavailable {
				t.Error("registry_unavailable still set after the store came back and /readyz saw it")
			}
			if p := decodePrediction(t, doWithin(t, h, http.MethodPost, "/predict", predictBody(t, "AAPL", opens(60)))); p.ModelVersion != 1 {
				t.Errorf("AAPL after the outage: v%d", p.ModelVersion)
			}
		})
	}
}

// TestStoreRoutesAnswer503DuringStoreOutage: each store-backed route answers
// 503 JSON with Retry-After while the store hangs or refuses, each on a
// fresh server (so the route itself sees the outage), then again at once.
func TestStoreRoutesAnswer503DuringStoreOutage(t *testing.T) {
	for _, mode := range outageModes {
		for _, path := range []string{"/models", "/models/NFLX", "/runs", "/runs/r1", "/runs/r1/report", "/runs/r1/plots/raw.png"} {
			t.Run(mode.String()+path, func(t *testing.T) {
				srv, o := newOutageServer(t)
				h := srv.Handler()
				o.Down(mode)
				assertStoreUnavailable(t, doWithin(t, h, http.MethodGet, path, ""))
				hits := o.Hits()
				if hits == 0 {
					t.Fatal("the request never met the outage")
				}
				// Remembered: the next request answers without trying the store.
				assertStoreUnavailable(t, doWithin(t, h, http.MethodGet, path, ""))
				if o.Hits() != hits {
					t.Errorf("the second request tried the store again within Retry-After")
				}
			})
		}
	}
}

type readiness struct {
	Status string            `json:"status"`
	Error  string            `json:"error"`
	Checks map[string]string `json:"checks"`
}

func readyz(t *testing.T, h http.Handler, status int) readiness {
	t.Helper()
	rec := doWithin(t, h, http.MethodGet, "/readyz", "")
	if rec.Code != status {
		t.Fatalf("GET /readyz: %d %s, want %d", rec.Code, rec.Body, status)
	}
	var r readiness
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	if status != http.StatusOK && rec.Header().Get("Retry-After") == "" {
		t.Error("a 503 /readyz without Retry-After")
	}
	return r
}

// TestReadyzChecksTheStore: ready while the store answers, not ready (naming
// the store) while it hangs or refuses, ready again when it is back; and a
// route that was remembered as down serves again at once.
func TestReadyzChecksTheStore(t *testing.T) {
	for _, mode := range outageModes {
		t.Run(mode.String(), func(t *testing.T) {
			srv, o := newOutageServer(t)
			h := srv.Handler()
			if r := readyz(t, h, http.StatusOK); r.Status != "ready" || r.Checks["store"] != "ok" {
				t.Fatalf("store up: %+v", r)
			}
			o.Down(mode)
			r := readyz(t, h, http.StatusServiceUnavailable)
			if r.Status != "not ready" || !strings.HasPrefix(r.Checks["store"], "unavailable") || !strings.Contains(r.Error, "store") {
				t.Fatalf("store down: %+v, want not ready naming the store", r)
			}
			assertStoreUnavailable(t, doWithin(t, h, http.MethodGet, "/models", ""))
			o.Up()
			if r := readyz(t, h, http.StatusOK); r.Checks["store"] != "ok" {
				t.Fatalf("store back: %+v", r)
			}
			if rec := doWithin(t, h, http.MethodGet, "/models", ""); rec.Code != http.StatusOK {
				t.Fatalf("/models after /readyz saw the store back: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// TestReadyzChecksAddedDependencies: an added check (Temporal, in main)
// that fails makes /readyz 503 naming it, while the store is fine; /healthz
// stays a liveness check.
func TestReadyzChecksAddedDependencies(t *testing.T) {
	srv, _ := newOutageServer(t, api.WithLookupTimeout(200*time.Millisecond))
	temporalUp := false
	srv.AddReadyCheck("temporal", func(ctx context.Context) error {
		if temporalUp {
			return nil
		}
		<-ctx.Done() // a frontend that does not answer
		return errors.New("temporal at 127.0.0.1:7233: " + ctx.Err().Error())
	})
	h := srv.Handler()
	r := readyz(t, h, http.StatusServiceUnavailable)
	if r.Checks["store"] != "ok" || !strings.HasPrefix(r.Checks["temporal"], "unavailable") || !strings.Contains(r.Error, "temporal") {
		t.Fatalf("temporal down: %+v", r)
	}
	if rec := do(h, http.MethodGet, "/healthz", ""); rec.Code != http.StatusOK {
		t.Fatalf("/healthz: %d", rec.Code)
	}
	temporalUp = true
	if r := readyz(t, h, http.StatusOK); r.Checks["temporal"] != "ok" {
		t.Fatalf("temporal up: %+v", r)
	}
}
