package api

import (
	"context"
	"fmt"
	"sync"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/artifact"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
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

// modelCache keeps the latest model of each ticker in memory and swaps in a
// newer version as soon as the registry lists one.
type modelCache struct {
	reg    registry.Registry
	device gotch.Device
	mu     sync.Mutex
	byTick map[string]*loadedModel
}

func newModelCache(reg registry.Registry, device gotch.Device) *modelCache {
	return &modelCache{reg: reg, device: device, byTick: map[string]*loadedModel{}}
}

// get returns the model the ticker's registry says to serve now: its
// champion, or its latest version when it has no champion. The manifest is
// read on every call, so a promotion or rollback takes effect at once.
func (c *modelCache) get(ctx context.Context, ticker string) (*loadedModel, string, error) {
	manifest, err := c.reg.Manifest(ctx, ticker)
	if err != nil {
		return nil, "", err
	}
	serving, selection, ok := manifest.Serving()
	if !ok {
		return nil, "", fmt.Errorf("%s: %w", ticker, registry.ErrNoModel)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.byTick[ticker]; ok && m.version == serving.Version {
		return m, selection, nil
	}
	m, err := c.load(ctx, ticker, serving.Version)
	if err != nil {
		return nil, "", err
	}
	// The replaced model may still be answering a request; its tensors are
	// freed by the garbage collector once nothing refers to it.
	c.byTick[ticker] = m
	return m, selection, nil
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
	for t, m := range c.byTick {
		m.mu.Lock()
		m.lstm.Close()
		m.mu.Unlock()
		delete(c.byTick, t)
	}
}
