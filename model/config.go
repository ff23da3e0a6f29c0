// Package model is the LSTM forecaster on gotch (LibTorch): build, train,
// save/load and predict. It imports nothing from Temporal; callers pass
// plain slices in and get plain slices out.
package model

import (
	"fmt"
	"strings"

	"github.com/sugarme/gotch"
)

// TrainParams are the optimisation settings of one training run.
type TrainParams struct {
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LearningRate float64 `json:"learning_rate"`
	ClipNorm     float64 `json:"clip_norm"` // max global gradient norm; 0 = no clipping
	LRDecay      float64 `json:"lr_decay"`  // learning rate × this after each epoch; 0 = constant
	Patience     int     `json:"patience"`  // early stop after this many epochs without a better val loss; 0 = never
	MinDelta     float64 `json:"min_delta"` // improvement needed to count as better
}

// Validate reports the first unusable training setting.
func (p TrainParams) Validate() error {
	switch {
	case p.Epochs < 1 || p.Epochs > 10000:
		return fmt.Errorf("epochs must be 1..10000, got %d", p.Epochs)
	case p.BatchSize < 1 || p.BatchSize > 65536:
		return fmt.Errorf("batch size must be 1..65536, got %d", p.BatchSize)
	case !(p.LearningRate > 0 && p.LearningRate < 1):
		return fmt.Errorf("learning rate must be in (0, 1), got %g", p.LearningRate)
	case p.ClipNorm < 0:
		return fmt.Errorf("clip norm must be ≥ 0, got %g", p.ClipNorm)
	case p.LRDecay < 0 || p.LRDecay > 1:
		return fmt.Errorf("lr decay must be in [0, 1], got %g", p.LRDecay)
	case p.Patience < 0 || p.MinDelta < 0:
		return fmt.Errorf("patience and min delta must be ≥ 0, got %d and %g", p.Patience, p.MinDelta)
	}
	return nil
}

// ParseDevice maps "auto", "cpu" or "cuda" to a gotch device.
func ParseDevice(name string) (gotch.Device, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "auto":
		return gotch.CudaIfAvailable(), nil
	case "cpu":
		return gotch.CPU, nil
	case "cuda", "gpu":
		if !gotch.CudaIfAvailable().IsCuda() {
			return gotch.CPU, fmt.Errorf("device cuda requested but LibTorch sees no CUDA device")
		}
		return gotch.CudaBuilder(0), nil
	}
	return gotch.CPU, fmt.Errorf("unknown device %q (want auto, cpu or cuda)", name)
}
