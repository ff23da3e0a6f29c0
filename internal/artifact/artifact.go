// Package artifact loads a registered model version — config.json,
// scaler.json (the fitted transform) and the weights — ready to predict.
// The API serves with it and the promotion gate re-scores champions with it.
package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
)

// ErrCorrupt marks an artifact whose files exist but cannot be decoded or
// loaded; retrying cannot help.
var ErrCorrupt = errors.New("corrupt model artifact")

// Loaded is one model version in memory. Close frees its tensors.
type Loaded struct {
	Version   int
	Config    model.ArtifactConfig
	Transform prep.Transform
	LSTM      *model.LSTM
}

// Close frees the model's tensors.
func (l *Loaded) Close() { l.LSTM.Close() }

// Load reads ticker's version from the registry. Store errors are wrapped
// as they are (blob.ErrNotFound stays detectable); undecodable files wrap
// ErrCorrupt.
func Load(ctx context.Context, reg registry.Registry, ticker string, version int, device gotch.Device) (*Loaded, error) {
	l := &Loaded{Version: version}
	for name, dst := range map[string]any{registry.FileConfig: &l.Config, registry.FileScaler: &l.Transform} {
		b, err := reg.ReadFile(ctx, ticker, version, name)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, fmt.Errorf("decode %s v%d %s: %w: %v", ticker, version, name, ErrCorrupt, err)
		}
	}
	if l.Config.Lookback == 0 { // artifacts from before lookback counted days of prices
		l.Config.Lookback = l.Config.Model.Lookback
	}
	weights, err := reg.ReadFile(ctx, ticker, version, registry.FileWeights)
	if err != nil {
		return nil, err
	}
	if l.LSTM, err = model.Load(weights, l.Config.Model, device); err != nil {
		return nil, fmt.Errorf("load %s v%d: %w: %v", ticker, version, ErrCorrupt, err)
	}
	return l, nil
}
