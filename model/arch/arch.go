// Package arch is the architecture of a forecaster in plain Go: what the
// pipelines' inputs and results, the registry's artifacts and the model's
// weight files record about a network. It imports no LibTorch, so code that
// only passes a model's description around (workflows) builds without cgo.
package arch

import "fmt"

// Config is the architecture of a forecaster. Two artifacts with different
// configs cannot share weights.
type Config struct {
	Features int     `json:"features"` // inputs per time step
	Lookback int     `json:"lookback"` // time steps per window
	Layers   int     `json:"layers"`
	Units    int     `json:"units"`
	Dropout  float64 `json:"dropout"` // between LSTM layers, training only
	Seed     int64   `json:"seed"`    // weight initialisation and batch order
}

// Validate reports the first field that cannot build a model.
func (c Config) Validate() error {
	switch {
	case c.Features < 1:
		return fmt.Errorf("features must be at least 1, got %d", c.Features)
	case c.Lookback < 1:
		return fmt.Errorf("lookback must be at least 1, got %d", c.Lookback)
	case c.Layers < 1 || c.Layers > 8:
		return fmt.Errorf("layers must be 1..8, got %d", c.Layers)
	case c.Units < 1 || c.Units > 4096:
		return fmt.Errorf("units must be 1..4096, got %d", c.Units)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("dropout must be in [0, 1), got %g", c.Dropout)
	}
	return nil
}

// SameShape reports whether weights of c fit a model of o: the same
// features, lookback, layers and units (dropout and seed do not matter).
func (c Config) SameShape(o Config) bool {
	return c.Features == o.Features && c.Lookback == o.Lookback && c.Layers == o.Layers && c.Units == o.Units
}

// Describe names the shape for messages: "2×LSTM(64) over 50 steps × 1 features".
func (c Config) Describe() string {
	return fmt.Sprintf("%d×LSTM(%d) over %d steps × %d features", c.Layers, c.Units, c.Lookback, c.Features)
}
