package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

const batchTestLookback = 50

func batchTestConfig(seed int64) arch.Config {
	return arch.Config{Features: 1, Lookback: batchTestLookback, Layers: 2, Units: 16, Seed: seed}
}

// testWindow is window i of a family of distinct scaled windows.
func testWindow(i int) []float32 {
	w := make([]float32, batchTestLookback)
	for j := range w {
		w[j] = float32(0.5 + 0.4*math.Sin(float64(i)*0.37+float64(j)*0.11))
	}
	return w
}

func newTestLoaded(t *testing.T, version int, seed int64) (*loadedModel, *model.LSTM) {
	t.Helper()
	cfg := batchTestConfig(seed)
	lstm, err := model.New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := model.New(cfg, gotch.CPU) // same seed, same weights: the unbatched reference
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ref.Close)
	m := newLoadedModel(version, model.ArtifactConfig{Model: cfg, Lookback: cfg.Lookback, Horizon: 1}, prep.Transform{}, lstm, maxBatchWait)
	t.Cleanup(m.close)
	return m, ref
}

// closeTo allows for the last bits that a matrix product over a batch may
// round differently from one over a single row.
func closeTo(got, want float32) bool {
	return math.Abs(float64(got-want)) <= 1e-5*math.Max(1, math.Abs(float64(want)))
}

// waitGoroutines waits until at most n goroutines run (others end
// asynchronously, e.g. test helpers), failing after a while.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBatchedPredictionsEqualUnbatched(t *testing.T) {
	m, ref := newTestLoaded(t, 1, 3)
	const goroutines, each = 48, 20
	want := make([]float32, goroutines*each)
	for i := range want {
		out, err := ref.Predict(testWindow(i))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out[0]
	}
	got := make([]float32, len(want))
	errs := make([]error, len(want))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for k := range each {
				i := g*each + k
				got[i], errs[i] = m.predict(testWindow(i))
			}
		}()
	}
	close(start)
	wg.Wait()
	for i := range want {
		if errs[i] != nil {
			t.Fatalf("window %d: %v", i, errs[i])
		}
		if !closeTo(got[i], want[i]) {
			t.Fatalf("window %d: batched %v, unbatched %v", i, got[i], want[i])
		}
	}
	batches, windows, largest := m.batch.batches.Load(), m.batch.windows.Load(), m.batch.largest.Load()
	t.Logf("%d windows in %d forward passes (largest %d)", windows, batches, largest)
	if windows != int64(len(want)) {
		t.Fatalf("the batcher ran %d windows, want %d", windows, len(want))
	}
	if largest < 2 || batches >= windows {
		t.Fatalf("no batch formed under load: %d passes for %d windows, largest %d", batches, windows, largest)
	}
	if largest > maxBatchWindows {
		t.Fatalf("a pass of %d windows, over the bound %d", largest, maxBatchWindows)
	}
}

func TestPredictBatchEqualsUnbatched(t *testing.T) {
	m, ref := newTestLoaded(t, 1, 4)
	windows := make([][]float32, 70)
	for i := range windows {
		windows[i] = testWindow(i)
	}
	for range 2 { // the second call reuses the pooled input slice
		got, err := m.predictBatch(windows)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(windows) {
			t.Fatalf("%d outputs for %d windows", len(got), len(windows))
		}
		for i, w := range windows {
			want, err := ref.Predict(w)
			if err != nil {
				t.Fatal(err)
			}
			if !closeTo(got[i], want[0]) {
				t.Fatalf("window %d: %v in a batch, %v alone", i, got[i], want[0])
			}
		}
	}
	if _, err := m.predictBatch([][]float32{testWindow(0), testWindow(1)[:10]}); err == nil {
		t.Fatal("windows of different lengths were accepted")
	}
}

func TestALoneRequestDoesNotWait(t *testing.T) {
	b := newBatcher(1, 64, time.Hour, func(x []float32, n int) ([]float32, error) { return x, nil })
	defer b.stop()
	for i := range 3 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if y, err := b.predict(context.Background(), []float32{float32(i)}); err != nil || y != float32(i) {
				t.Errorf("predict = %v, %v", y, err)
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a lone request waited for company (maxWait is an hour)")
		}
	}
}

func TestBatchWaitIsBounded(t *testing.T) {
	f := newBlockingForward()
	b := newBatcher(1, 64, 20*time.Millisecond, f.forward)
	defer b.stop()
	results := make(chan float32, 10)
	send := func(v float32) {
		go func() {
			y, err := b.predict(context.Background(), []float32{v})
			if err != nil {
				t.Error(err)
			}
			results <- y
		}()
	}
	send(1)
	<-f.entered // pass 1 runs; 2 and 3 queue and form the next pass
	send(2)
	send(3)
	time.Sleep(20 * time.Millisecond)
	f.release <- struct{}{}
	if n := <-f.entered; n != 2 {
		t.Fatalf("second pass of %d windows, want the 2 queued", n)
	}
	f.release <- struct{}{}
	// The last pass had company, so a lone window now waits for more, but
	// no longer than maxWait.
	start := time.Now()
	send(4)
	if n := <-f.entered; n != 1 {
		t.Fatalf("third pass of %d windows", n)
	}
	if d := time.Since(start); d < 20*time.Millisecond || d > 5*time.Second {
		t.Fatalf("the lone window after a batch waited %v, want maxWait (20ms)", d)
	}
	f.release <- struct{}{}
	for range 4 {
		<-results
	}
}

// blockingForward records each pass's window count and blocks it until
// released.
type blockingForward struct {
	mu      sync.Mutex
	sizes   []int
	entered chan int
	release chan struct{}
}

func newBlockingForward() *blockingForward {
	return &blockingForward{entered: make(chan int, 100), release: make(chan struct{}, 100)}
}

func (f *blockingForward) forward(x []float32, n int) ([]float32, error) {
	f.mu.Lock()
	f.sizes = append(f.sizes, n)
	f.mu.Unlock()
	f.entered <- n
	<-f.release
	return append([]float32(nil), x...), nil // window i predicts its one value
}

func TestCancelledWhileQueuedLeavesTheQueue(t *testing.T) {
	f := newBlockingForward()
	b := newBatcher(1, 64, 0, f.forward)
	defer b.stop()
	first := make(chan error, 1)
	go func() {
		_, err := b.predict(context.Background(), []float32{1})
		first <- err
	}()
	<-f.entered // window 1's pass is running; the next one queues
	ctx, cancel := context.WithCancel(context.Background())
	queued := make(chan error, 1)
	go func() {
		_, err := b.predict(ctx, []float32{2})
		queued <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it queue
	cancel()
	select {
	case err := <-queued:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled request: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled request kept waiting for the pass under way")
	}
	third := make(chan float32, 1)
	go func() {
		y, err := b.predict(context.Background(), []float32{3})
		if err != nil {
			t.Error(err)
		}
		third <- y
	}()
	time.Sleep(20 * time.Millisecond)
	close(f.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if y := <-third; y != 3 {
		t.Fatalf("window 3 predicted %v", y)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fmt.Sprint(f.sizes) != "[1 1]" {
		t.Fatalf("passes of %v windows, want [1 1]: the cancelled window must not run", f.sizes)
	}
}

func TestStopAnswersTakenWindowsAndRefusesTheRest(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newBlockingForward()
	b := newBatcher(1, 64, 0, f.forward)
	type result struct {
		y   float32
		err error
	}
	results := make(chan result, 10)
	send := func(v float32) {
		go func() {
			y, err := b.predict(context.Background(), []float32{v})
			results <- result{y, err}
		}()
	}
	send(1)
	<-f.entered // the pass of window 1 runs
	for v := 2; v <= 5; v++ {
		send(float32(v))
	}
	time.Sleep(20 * time.Millisecond) // windows 2–5 wait to be taken
	stopped := make(chan struct{})
	go func() { b.stop(); close(stopped) }()
	// The four waiting windows are refused at once; stop waits for the pass.
	for range 4 {
		r := <-results
		if !errors.Is(r.err, errBatcherStopped) {
			t.Fatalf("waiting window: %v, %v; want errBatcherStopped", r.y, r.err)
		}
	}
	select {
	case <-stopped:
		t.Fatal("stop returned while a pass was running")
	case <-time.After(20 * time.Millisecond):
	}
	close(f.release)
	if r := <-results; r.err != nil || r.y != 1 {
		t.Fatalf("window taken before stop: %v, %v; want its answer", r.y, r.err)
	}
	<-stopped
	if _, err := b.predict(context.Background(), []float32{9}); !errors.Is(err, errBatcherStopped) {
		t.Fatalf("after stop: %v", err)
	}
	b.stop() // idempotent
	waitGoroutines(t, base)
}

func TestPredictRefusesAWrongSizedWindowAlone(t *testing.T) {
	m, _ := newTestLoaded(t, 1, 1)
	if _, err := m.predict(make([]float32, batchTestLookback-1)); err == nil {
		t.Fatal("a 49-value window was accepted")
	}
	if _, err := m.predict(testWindow(0)); err != nil {
		t.Fatal(err)
	}
}

func TestCloseWhileRequestsAreInFlight(t *testing.T) {
	base := runtime.NumGoroutine()
	m, ref := newTestLoaded(t, 1, 5)
	want, err := ref.Predict(testWindow(1))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered, refused := 0, 0
	start := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				y, err := m.predict(testWindow(1))
				mu.Lock()
				switch {
				case err == nil && closeTo(y, want[0]):
					answered++
				case errors.Is(err, errModelClosed):
					refused++
				default:
					t.Errorf("predict while closing: %v, %v", y, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	close(start)
	time.Sleep(50 * time.Millisecond)
	m.close()
	wg.Wait()
	t.Logf("%d answered, %d refused after close", answered, refused)
	if answered == 0 || refused != 16 {
		t.Fatalf("%d answered, %d refused; want some answers, then all 16 refused", answered, refused)
	}
	if _, err := m.forward(testWindow(1), 1); !errors.Is(err, errModelClosed) {
		t.Fatalf("a pass after close: %v, want errModelClosed", err)
	}
	m.close() // idempotent
	ref.Close()
	waitGoroutines(t, base)
}

// registerTestModel stores a model as the next version of ticker.
func registerTestModel(t *testing.T, store blob.Store, ticker string, seed int64) {
	t.Helper()
	cfg := batchTestConfig(seed)
	m, err := model.New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	weights, err := m.MarshalWeights()
	if err != nil {
		t.Fatal(err)
	}
	js := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	files := map[string][]byte{
		registry.FileWeights: weights,
		registry.FileScaler:  js(prep.Transform{}),
		registry.FileConfig:  js(model.ArtifactConfig{Model: cfg, Lookback: cfg.Lookback, Horizon: 1}),
		registry.FileMetrics: []byte(`{"test_rmse":1}`),
		registry.FileLineage: []byte(`{}`),
	}
	if _, err := (registry.Registry{Store: store}).Register(context.Background(), ticker, registry.Version{RunID: fmt.Sprint("r", seed)}, files); err != nil {
		t.Fatal(err)
	}
}

func TestReplacedModelKeepsAnsweringAndItsBatcherEnds(t *testing.T) {
	base := runtime.NumGoroutine()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	registerTestModel(t, store, "NFLX", 1)
	registerTestModel(t, store, "NFLX", 2)
	cache := newModelCache(registry.Registry{Store: store}, gotch.CPU)
	ctx := context.Background()
	v1, err := cache.use(ctx, "NFLX", 1, "latest")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := model.New(batchTestConfig(1), gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	want, err := ref.Predict(testWindow(4))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// A request that took v1 before the swap answers with v1.
				y, err := v1.predict(testWindow(4))
				if err != nil || !closeTo(y, want[0]) {
					t.Errorf("v1 while replaced: %v, %v; want %v", y, err, want[0])
					return
				}
			}
		}()
	}
	time.Sleep(30 * time.Millisecond)
	v2, err := cache.use(ctx, "NFLX", 2, "latest")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-v1.batch.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the replaced model's batcher still runs")
	}
	time.Sleep(30 * time.Millisecond) // requests now run alone on v1
	close(stop)
	wg.Wait()
	if _, err := v2.predict(testWindow(4)); err != nil {
		t.Fatal(err)
	}
	if m, _, _ := cache.current("NFLX"); m != v2 {
		t.Fatal("the cache does not serve v2")
	}
	cache.close()
	if _, err := v2.predict(testWindow(4)); !errors.Is(err, errModelClosed) {
		t.Fatalf("after close: %v, want errModelClosed", err)
	}
	ref.Close()
	waitGoroutines(t, base)
}
