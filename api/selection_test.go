package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
)

// registerScored stores a freshly initialised model (seeded) as the next
// version of ticker with test metrics: its test RMSE and the naive
// forecast's on the same days. It returns the weights.
func registerScored(t *testing.T, store blob.Store, ticker, runID string, seed int64, testRMSE, naiveRMSE float64) []byte {
	t.Helper()
	cfg := modelConfig(seed)
	m, err := model.New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	weights, err := m.MarshalWeights()
	if err != nil {
		t.Fatal(err)
	}
	sum := metrics.TestSummary{TestRMSE: testRMSE, NaiveRMSE: naiveRMSE, N: 100}
	files := map[string][]byte{
		registry.FileWeights: weights,
		registry.FileScaler:  mustJSON(t, transform),
		registry.FileConfig:  mustJSON(t, model.ArtifactConfig{Model: cfg, Lookback: cfg.Lookback, Horizon: 1}),
		registry.FileMetrics: mustJSON(t, sum),
		registry.FileLineage: []byte(`{"run_id":"` + runID + `"}`),
	}
	if _, err := (registry.Registry{Store: store}).Register(context.Background(), ticker, registry.Version{RunID: runID, Metrics: sum}, files); err != nil {
		t.Fatal(err)
	}
	return weights
}

// jsonAnswer is /predict's answer to a JSON request, single or batch.
type jsonAnswer struct {
	Ticker              string    `json:"ticker"`
	ModelVersion        int       `json:"model_version"`
	Selection           string    `json:"selection"`
	Reason              string    `json:"reason"`
	HorizonDays         int       `json:"horizon_days"`
	Prediction          float64   `json:"prediction"`
	Predictions         []float64 `json:"predictions"`
	RegistryUnavailable bool      `json:"registry_unavailable"`
}

func postJSON(t *testing.T, h http.Handler, path string, body any) jsonAnswer {
	t.Helper()
	rec := do(h, http.MethodPost, path, string(mustJSON(t, body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("POST %s: status %d, body %s", path, rec.Code, rec.Body)
	}
	var a jsonAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return a
}

// naiveStore holds NFLX v1 and v2, neither champion: v2 is the better of
// the two but no better than the naive forecast.
func naiveStore(t *testing.T) (blob.Store, [][]byte) {
	t.Helper()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w1 := registerScored(t, store, "NFLX", "r1", 1, 11.2, 10.86)
	w2 := registerScored(t, store, "NFLX", "r2", 2, 10.91, 10.86)
	return store, [][]byte{w1, w2}
}

func newServerOn(t *testing.T, store blob.Store, opts ...api.Option) http.Handler {
	t.Helper()
	srv := api.New(store, gotch.CPU, opts...)
	t.Cleanup(srv.Close)
	return srv.Handler()
}

// A ticker with versions but no champion (none beat the naive forecast)
// gets the naive forecast, the window's last Open, saying why; ?version=
// and ?alias= get the models.
func TestNoChampionAnswersTheNaiveForecast(t *testing.T) {
	store, weights := naiveStore(t)
	h := newServerOn(t, store, api.WithManifestRefresh(0)) // the alias set below is seen at once
	open := opens(60)
	body := map[string]any{"ticker": "NFLX", "open": open}

	p := postJSON(t, h, "/predict", body)
	if p.Selection != "naive" || p.ModelVersion != 0 || p.Prediction != open[len(open)-1] || p.HorizonDays != 1 {
		t.Fatalf("answer %+v, want the naive forecast %v (the last Open), horizon 1", p, open[len(open)-1])
	}
	if want := "no version of NFLX beats the naive forecast: best is v2, test RMSE 10.91 vs naive 10.86"; p.Reason != want {
		t.Errorf("reason %q, want %q", p.Reason, want)
	}

	v1 := postJSON(t, h, "/predict?version=1", body)
	if v1.Selection != "version" || v1.ModelVersion != 1 || v1.Reason != "" {
		t.Fatalf("?version=1: %+v", v1)
	}
	if want := expectedPrediction(t, weights[0], open); math.Abs(v1.Prediction-want) > 1e-9 {
		t.Fatalf("?version=1 predicts %v, v1's model %v", v1.Prediction, want)
	}
	if v2 := postJSON(t, h, "/predict?version=2", body); v2.ModelVersion != 2 ||
		math.Abs(v2.Prediction-expectedPrediction(t, weights[1], open)) > 1e-9 {
		t.Fatalf("?version=2: %+v", v2)
	}

	// Still naive by default: asking for a version does not change what
	// answers the others.
	if p := postJSON(t, h, "/predict", body); p.Selection != "naive" {
		t.Fatalf("after ?version=: %+v", p)
	}

	// The batch and the price file take the same selection.
	b := postJSON(t, h, "/predict", map[string]any{"ticker": "NFLX", "windows": [][]float64{open, open[:55]}})
	if b.Selection != "naive" || b.Reason != p.Reason || len(b.Predictions) != 2 || b.Predictions[0] != open[59] || b.Predictions[1] != open[54] {
		t.Fatalf("batch: %+v", b)
	}
	csv := priceCSV(open)
	up := decodeUpload(t, doBody(h, "/predict?ticker=NFLX", "text/csv", strings.NewReader(csv)))
	if up.Selection != "naive" || up.ModelVersion != 0 || len(up.Predictions) != len(open)-lookback+1 {
		t.Fatalf("upload: %+v", up)
	}
	for i, pt := range up.Predictions {
		if pt.Prediction != open[i+lookback-1] {
			t.Fatalf("upload window %d (ending %s): %v, want its last Open %v", i, pt.WindowEnd, pt.Prediction, open[i+lookback-1])
		}
	}
	if up := decodeUpload(t, doBody(h, "/predict?ticker=NFLX&version=2", "text/csv", strings.NewReader(csv))); up.ModelVersion != 2 || up.Selection != "version" {
		t.Fatalf("upload ?version=2: %+v", up)
	}

	// An alias asks for what it names.
	if _, err := (registry.Registry{Store: store}).SetAlias(context.Background(), "NFLX", registry.Challenger, 2, "test", false, ""); err != nil {
		t.Fatal(err)
	}
	if c := postJSON(t, h, "/predict?alias=challenger", body); c.Selection != "challenger" || c.ModelVersion != 2 {
		t.Fatalf("?alias=challenger: %+v", c)
	}

	for _, tc := range []struct {
		path    string
		status  int
		mention string
	}{
		{"/predict?version=9", http.StatusNotFound, "version 9"},
		{"/predict?alias=champion", http.StatusNotFound, "champion"},
		{"/predict?alias=nope", http.StatusNotFound, "challenger → v2"},
		{"/predict?version=x", http.StatusBadRequest, "version"},
		{"/predict?version=0", http.StatusBadRequest, "version"},
		{"/predict?version=1&alias=challenger", http.StatusBadRequest, "not both"},
	} {
		msg := errorMessage(t, do(h, http.MethodPost, tc.path, string(mustJSON(t, body))), tc.status)
		if !strings.Contains(msg, tc.mention) {
			t.Errorf("%s: error %q does not mention %q", tc.path, msg, tc.mention)
		}
	}
	// A window too short for the ticker's models is refused as the champion
	// would refuse it.
	msg := errorMessage(t, do(h, http.MethodPost, "/predict", predictBody(t, "NFLX", open[:10])), http.StatusBadRequest)
	if !strings.Contains(msg, "50") || !strings.Contains(msg, "naive") {
		t.Errorf("short window: %q", msg)
	}
}

// priceCSV is a Yahoo-style file of the Opens on consecutive weekdays.
func priceCSV(open []float64) string {
	var b strings.Builder
	b.WriteString("Date,Open,High,Low,Close,Adj Close,Volume\n")
	d := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range open {
		for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			d = d.AddDate(0, 0, 1)
		}
		fmt.Fprintf(&b, "%s,%v,%v,%v,%v,%v,1000\n", d.Format(time.DateOnly), o, o+1, o-1, o, o)
		d = d.AddDate(0, 0, 1)
	}
	return b.String()
}

// waitServed polls /predict until it answers with version (0: the naive
// forecast) and returns how long that took.
func waitServed(t *testing.T, h http.Handler, version int, within time.Duration) time.Duration {
	t.Helper()
	body := predictBody(t, "NFLX", opens(60))
	start := time.Now()
	for {
		rec := do(h, http.MethodPost, "/predict", body)
		var a jsonAnswer
		if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &a) == nil && a.ModelVersion == version {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("v%d not served within %s: last answer %d %s", version, within, rec.Code, rec.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// With the default refresh (1 s), a promotion and a rollback are served
// within 2 s.
func TestPromotionIsServedWithinTwoSeconds(t *testing.T) {
	store, _ := naiveStore(t)
	h := newServerOn(t, store)
	waitServed(t, h, 0, time.Second) // naive, the manifest in memory
	reg := registry.Registry{Store: store}
	for _, step := range []struct {
		what    string
		move    func() error
		version int
	}{
		{"promotion of v1", func() error {
			_, err := reg.SetAlias(context.Background(), "NFLX", registry.Champion, 1, "forced", true, "")
			return err
		}, 1},
		{"promotion of v2", func() error {
			_, err := reg.SetAlias(context.Background(), "NFLX", registry.Champion, 2, "better", false, "")
			return err
		}, 2},
		{"rollback", func() error { _, err := reg.Rollback(context.Background(), "NFLX", "test"); return err }, 1},
	} {
		if err := step.move(); err != nil {
			t.Fatal(err)
		}
		d := waitServed(t, h, step.version, 2*time.Second)
		t.Logf("%s served after %v", step.what, d.Round(time.Millisecond))
	}
}

// countingStore counts the calls of a store, by method.
type countingStore struct {
	blob.Store
	mu    sync.Mutex
	calls map[string]int
}

func newCountingStore(s blob.Store) *countingStore {
	return &countingStore{Store: s, calls: map[string]int{}}
}

func (s *countingStore) count(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
}

func (s *countingStore) reset() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = map[string]int{}
	return c
}

func (s *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	s.count("Get")
	return s.Store.Get(ctx, key)
}

func (s *countingStore) GetGen(ctx context.Context, key string) ([]byte, string, error) {
	s.count("GetGen")
	return s.Store.GetGen(ctx, key)
}

func (s *countingStore) Generation(ctx context.Context, key string) (string, error) {
	s.count("Generation")
	return s.Store.Generation(ctx, key)
}

func (s *countingStore) Exists(ctx context.Context, key string) (bool, error) {
	s.count("Exists")
	return s.Store.Exists(ctx, key)
}

func (s *countingStore) List(ctx context.Context, prefix string) ([]string, error) {
	s.count("List")
	return s.Store.List(ctx, prefix)
}

// In the steady state /predict reads nothing from the store: N requests
// cost no Get or GetGen, and the manifest's generation is checked at most
// once per refresh interval per ticker.
func TestSteadyStateReadsNothing(t *testing.T) {
	local, _ := naiveStore(t) // NFLX: naive
	registerScored(t, local, "AAPL", "a1", 3, 1, 2)
	promote(t, local, "AAPL", 1) // AAPL: the champion v1
	store := newCountingStore(local)
	h := newServerOn(t, store)
	bodies := map[string]string{"NFLX": predictBody(t, "NFLX", opens(60)), "AAPL": predictBody(t, "AAPL", opens(60))}
	for ticker, body := range bodies { // warm: manifests read, model and config loaded
		if rec := do(h, http.MethodPost, "/predict", body); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", ticker, rec.Code, rec.Body)
		}
	}
	store.reset()

	const run = 2200 * time.Millisecond
	start := time.Now()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		requests int
	)
	for g := range 4 {
		wg.Go(func() {
			for time.Since(start) < run {
				for _, body := range bodies {
					if rec := do(h, http.MethodPost, "/predict", body); rec.Code != http.StatusOK {
						t.Errorf("goroutine %d: %d %s", g, rec.Code, rec.Body)
						return
					}
					mu.Lock()
					requests++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(50 * time.Millisecond) // a check started at the end finishes
	calls := store.reset()
	t.Logf("%d requests in %v: store calls %v", requests, elapsed.Round(time.Millisecond), calls)
	if requests < 100 {
		t.Fatalf("only %d requests: the test proves little", requests)
	}
	for op, n := range calls {
		if op != "Generation" && n > 0 {
			t.Errorf("%d %s calls in the steady state, want 0", n, op)
		}
	}
	// One check per ticker per interval, and one more for a check due as
	// the run began.
	if most := 2 * (int(elapsed/api.DefaultManifestRefresh) + 1); calls["Generation"] > most {
		t.Errorf("%d generation checks for 2 tickers in %v, want at most %d (one per ticker per second)", calls["Generation"], elapsed, most)
	}
	if calls["Generation"] == 0 {
		t.Error("no generation check in more than 2 s: a change would never be seen")
	}
}

// gatedStore holds Generation calls until released.
type gatedStore struct {
	*countingStore
	gate chan struct{}
}

func (s *gatedStore) Generation(ctx context.Context, key string) (string, error) {
	s.count("Generation")
	select {
	case <-s.gate:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return s.Store.Generation(ctx, key)
}

// A slow check holds no request: while one is in flight, requests answer
// from memory and start no other; once it completes, the change it found
// is served.
func TestASlowCheckHoldsNoRequest(t *testing.T) {
	local, _ := naiveStore(t)
	store := &gatedStore{countingStore: newCountingStore(local), gate: make(chan struct{})}
	h := newServerOn(t, store, api.WithLookupTimeout(time.Minute))
	waitServed(t, h, 0, time.Second)
	promote(t, local, "NFLX", 2)
	time.Sleep(api.DefaultManifestRefresh + 100*time.Millisecond) // the manifest's check is due, in the background

	body := predictBody(t, "NFLX", opens(60))
	for i := range 20 {
		start := time.Now()
		rec := do(h, http.MethodPost, "/predict", body)
		var a jsonAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); rec.Code != http.StatusOK || err != nil || a.Selection != "naive" {
			t.Fatalf("request %d while the check hangs: %d %s", i, rec.Code, rec.Body)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("request %d took %v while the check hangs", i, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := store.reset()["Generation"]; n != 1 {
		t.Fatalf("%d checks started while one hung, want 1", n)
	}
	close(store.gate)
	waitServed(t, h, 2, 2*time.Second)
}

// A ticker without requests for longer than 1.5 refresh intervals is
// checked before its next request answers: a promotion made meanwhile is
// served by that request, not after it.
func TestAnIdleTickerIsCheckedBeforeItAnswers(t *testing.T) {
	store, _ := naiveStore(t)
	h := newServerOn(t, store, api.WithManifestRefresh(100*time.Millisecond))
	waitServed(t, h, 0, time.Second)
	promote(t, store, "NFLX", 1)
	time.Sleep(200 * time.Millisecond)
	if p := postJSON(t, h, "/predict", map[string]any{"ticker": "NFLX", "open": opens(60)}); p.ModelVersion != 1 || p.Selection != "champion" {
		t.Fatalf("first request after the promotion, the ticker idle: %+v, want the champion v1", p)
	}
}

// A JSON body over 1 MiB is refused with 413, whether its length is
// declared or found while reading.
func TestPredictJSONTooLarge(t *testing.T) {
	h, _, _ := newServer(t)
	big := `{"ticker":"NFLX","open":[` + strings.Repeat("12.5,", 1<<20/5) + `12.5]}`
	declared := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(big))
	declared.Header.Set("Content-Type", "application/json")
	streamed := httptest.NewRequest(http.MethodPost, "/predict", io.MultiReader(strings.NewReader(big)))
	streamed.Header.Set("Content-Type", "application/json")
	streamed.ContentLength = -1
	for name, req := range map[string]*http.Request{"declared": declared, "streamed": streamed} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if msg := errorMessage(t, rec, http.StatusRequestEntityTooLarge); !strings.Contains(msg, "1 MiB") {
			t.Errorf("%s: error %q does not name the limit", name, msg)
		}
	}
	// Trailing white space after the value, past the limit, is too large too;
	// anything else after it is a second value.
	padded := predictBody(t, "NFLX", opens(60)) + strings.Repeat(" ", 1<<20)
	errorMessage(t, do(h, http.MethodPost, "/predict", padded), http.StatusRequestEntityTooLarge)
	if p := predictOK(t, h, "NFLX", opens(60)); p.ModelVersion != 1 {
		t.Fatalf("after the 413s: %+v", p)
	}
}
