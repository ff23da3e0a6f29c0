package api

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/artifact"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/telemetry"
	"github.com/finsight/finsight/model"
)

// loadedModel is one registered version, ready to predict. Single windows
// (predict) go through its batcher, which runs concurrent requests as one
// forward pass; a request's batch of windows is a pass of its own
// (predictBatch).
type loadedModel struct {
	version   int
	cfg       model.ArtifactConfig
	transform prep.Transform
	// mu guards lstm against close: forward passes hold it shared (LibTorch
	// runs concurrent no-grad passes on the same weights safely), close
	// holds it alone, so no pass runs on freed tensors.
	mu     sync.RWMutex
	lstm   *model.LSTM
	closed bool // the tensors are freed; guarded by mu
	batch  *batcher
}

// errModelClosed answers a request that reaches a model after Server.Close.
var errModelClosed = errors.New("model closed: the server is shutting down")

// newLoadedModel serves lstm, batching single windows for up to wait after
// a batch's first (see batcher.collect).
func newLoadedModel(version int, cfg model.ArtifactConfig, transform prep.Transform, lstm *model.LSTM, wait time.Duration) *loadedModel {
	m := &loadedModel{version: version, cfg: cfg, transform: transform, lstm: lstm}
	arch := lstm.Config()
	m.batch = newBatcher(arch.Lookback*arch.Features, maxBatchWindows, wait, m.forward)
	return m
}

// predict returns the model's output for one window, batched with
// concurrent requests (see predictContext).
func (m *loadedModel) predict(window []float32) (float32, error) {
	return m.predictContext(context.Background(), window)
}

// predictContext is predict that gives up, with ctx's error, if ctx ends
// while the window waits for a batch. Once the model is replaced (its
// batcher stopped), a request still holding it runs its window alone.
func (m *loadedModel) predictContext(ctx context.Context, window []float32) (float32, error) {
	y, err := m.batch.predict(ctx, window)
	if errors.Is(err, errBatcherStopped) {
		var out []float32
		if out, err = m.forward(window, 1); err == nil {
			y = out[0]
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return 0, fmt.Errorf("predict with v%d: %w", m.version, err)
	}
	return y, err
}

// predictBatch returns the model's output for each of windows (equally
// long, already scaled), in one forward pass.
func (m *loadedModel) predictBatch(windows [][]float32) ([]float32, error) {
	if len(windows) == 0 {
		return nil, nil
	}
	per := len(windows[0])
	buf := flatWindows.Get().(*[]float32)
	x := (*buf)[:0]
	for i, w := range windows {
		if len(w) != per {
			flatWindows.Put(buf)
			return nil, fmt.Errorf("predict with v%d: window %d has %d values, window 0 has %d", m.version, i, len(w), per)
		}
		x = append(x, w...)
	}
	out, err := m.forward(x, len(windows))
	*buf = x[:0]
	flatWindows.Put(buf)
	if err != nil {
		return nil, fmt.Errorf("predict with v%d: %w", m.version, err)
	}
	return out, nil
}

// flatWindows recycles predictBatch's flat input slices.
var flatWindows = sync.Pool{New: func() any { return new([]float32) }}

// forward runs n windows (flat in x) through the model in one call and
// returns one output per window.
func (m *loadedModel) forward(x []float32, n int) ([]float32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errModelClosed
	}
	out, err := m.lstm.Predict(x)
	if err != nil {
		return nil, err
	}
	if len(out) != n {
		return nil, fmt.Errorf("%d outputs for %d windows", len(out), n)
	}
	return out, nil
}

// retire stops the batcher of a model that the cache no longer serves.
// Requests still holding the model run alone; its tensors are freed by the
// garbage collector once nothing refers to it.
func (m *loadedModel) retire() { m.batch.stop() }

// close stops the batcher (the pass under way finishes) and frees the
// tensors. Later requests get errModelClosed.
func (m *loadedModel) close() {
	m.batch.stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		m.lstm.Close()
	}
}

// modelCache keeps, per ticker, the model last served and the registry
// entry it was served as, and swaps in a newer version as soon as the
// registry lists one. What it holds also answers while the store is
// unavailable.
type modelCache struct {
	reg    registry.Registry
	device gotch.Device
	mu     sync.Mutex // guards byTick and each entry's model and selection
	byTick map[string]*tickerModel
	// metrics counts loads and cache hits (nil: not counted).
	metrics *telemetry.API
	// batchWait bounds how long a model's batch waits for more windows
	// (maxBatchWait; tests and benchmarks change it before any load).
	batchWait time.Duration
}

// tickerModel is one ticker's served model.
type tickerModel struct {
	load      sync.Mutex // one load of this ticker at a time; others keep answering
	model     *loadedModel
	selection string // champion, or latest when there is none
}

func newModelCache(reg registry.Registry, device gotch.Device) *modelCache {
	return &modelCache{reg: reg, device: device, byTick: map[string]*tickerModel{}, batchWait: maxBatchWait}
}

// current returns the model last served for ticker, and as what.
func (c *modelCache) current(ticker string) (*loadedModel, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.byTick[ticker]
	if t == nil || t.model == nil {
		return nil, "", false
	}
	return t.model, t.selection, true
}

// use returns version of ticker, loading it unless it is the one loaded,
// and records it as the ticker's served model.
func (c *modelCache) use(ctx context.Context, ticker string, version int, selection string) (*loadedModel, error) {
	c.mu.Lock()
	t := c.byTick[ticker]
	if t == nil {
		t = &tickerModel{}
		c.byTick[ticker] = t
	}
	c.mu.Unlock()
	t.load.Lock()
	defer t.load.Unlock()
	c.mu.Lock()
	if m := t.model; m != nil && m.version == version {
		t.selection = selection
		c.mu.Unlock()
		c.metrics.CacheHit(ticker)
		return m, nil
	}
	c.mu.Unlock()
	m, err := c.load(ctx, ticker, version)
	c.metrics.ModelLoad(ticker, err)
	if err != nil {
		return nil, err
	}
	// The replaced model may still be answering a request (see retire).
	c.mu.Lock()
	old := t.model
	t.model, t.selection = m, selection
	c.mu.Unlock()
	if old != nil {
		old.retire()
	}
	return m, nil
}

func (c *modelCache) load(ctx context.Context, ticker string, version int) (*loadedModel, error) {
	l, err := artifact.Load(ctx, c.reg, ticker, version, c.device)
	if err != nil {
		return nil, err
	}
	return newLoadedModel(version, l.Config, l.Transform, l.LSTM, c.batchWait), nil
}

func (c *modelCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, t := range c.byTick {
		if m := t.model; m != nil {
			m.close()
		}
		delete(c.byTick, name)
	}
}
