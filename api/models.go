package api

import (
	"context"
	"fmt"
	"sync"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/artifact"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/telemetry"
	"github.com/finsight/finsight/model"
)

// loadedModel is one registered version, ready to predict.
type loadedModel struct {
	version   int
	cfg       model.ArtifactConfig
	transform prep.Transform
	mu        sync.Mutex // one forward pass at a time per model
	lstm      *model.LSTM
}

func (m *loadedModel) predict(window []float32) (float32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out, err := m.lstm.Predict(window)
	if err != nil {
		return 0, fmt.Errorf("predict with v%d: %w", m.version, err)
	}
	return out[0], nil
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
}

// tickerModel is one ticker's served model.
type tickerModel struct {
	load      sync.Mutex // one load of this ticker at a time; others keep answering
	model     *loadedModel
	selection string // champion, or latest when there is none
}

func newModelCache(reg registry.Registry, device gotch.Device) *modelCache {
	return &modelCache{reg: reg, device: device, byTick: map[string]*tickerModel{}}
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
	// The replaced model may still be answering a request; its tensors are
	// freed by the garbage collector once nothing refers to it.
	c.mu.Lock()
	t.model, t.selection = m, selection
	c.mu.Unlock()
	return m, nil
}

func (c *modelCache) load(ctx context.Context, ticker string, version int) (*loadedModel, error) {
	l, err := artifact.Load(ctx, c.reg, ticker, version, c.device)
	if err != nil {
		return nil, err
	}
	return &loadedModel{version: version, cfg: l.Config, transform: l.Transform, lstm: l.LSTM}, nil
}

func (c *modelCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, t := range c.byTick {
		if m := t.model; m != nil {
			m.mu.Lock()
			m.lstm.Close()
			m.mu.Unlock()
		}
		delete(c.byTick, name)
	}
}
