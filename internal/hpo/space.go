// Package hpo is hyperparameter search: a search space, seeded samplers
// (random and TPE), the median pruning rule and the choice of the best
// trial. Everything is a pure function of its inputs — no clock, no
// goroutines, no global random source, no order taken from map iteration —
// so it can run inside Temporal workflow code and replay identically.
package hpo

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidSpace is wrapped by every error Space.Validate returns.
var ErrInvalidSpace = errors.New("invalid search space")

// Parameter kinds.
const (
	KindInt      = "int"      // whole number in [Low, High]
	KindFloat    = "float"    // uniform in [Low, High]
	KindLogFloat = "logfloat" // log-uniform in [Low, High], Low > 0
	KindChoice   = "choice"   // one of Choices
)

// Param is one searched hyperparameter.
type Param struct {
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	Low     float64   `json:"low,omitempty"`
	High    float64   `json:"high,omitempty"`
	Choices []float64 `json:"choices,omitempty"`
}

// Space is an ordered list of parameters; samplers draw them in this order.
type Space []Param

// Point is one sampled configuration (ints as whole floats).
type Point map[string]float64

// DefaultSpace is the LSTM forecaster's search space: units 32–128,
// layers 1–3, dropout 0.1–0.5, learning rate 1e-4–1e-2 on a log scale,
// batch size 32, 64 or 128.
func DefaultSpace() Space {
	return Space{
		{Name: "units", Kind: KindInt, Low: 32, High: 128},
		{Name: "layers", Kind: KindInt, Low: 1, High: 3},
		{Name: "dropout", Kind: KindFloat, Low: 0.1, High: 0.5},
		{Name: "learning_rate", Kind: KindLogFloat, Low: 1e-4, High: 1e-2},
		{Name: "batch_size", Kind: KindChoice, Choices: []float64{32, 64, 128}},
	}
}

// Validate rejects empty and duplicate names, unknown kinds, non-finite or
// empty ranges (Low ≥ High), int bounds that are not whole, log scales with
// Low ≤ 0, and choice lists that are empty, non-finite or repeat a value.
func (s Space) Validate() error {
	seen := make(map[string]bool, len(s))
	for i, p := range s {
		if p.Name == "" {
			return fmt.Errorf("%w: parameter %d has no name", ErrInvalidSpace, i)
		}
		if seen[p.Name] {
			return fmt.Errorf("%w: parameter %q appears twice", ErrInvalidSpace, p.Name)
		}
		seen[p.Name] = true
		if err := p.validate(); err != nil {
			return fmt.Errorf("%w: parameter %q: %w", ErrInvalidSpace, p.Name, err)
		}
	}
	return nil
}

func (p Param) validate() error {
	switch p.Kind {
	case KindInt, KindFloat, KindLogFloat:
		switch {
		case !finite(p.Low) || !finite(p.High):
			return fmt.Errorf("bounds [%g, %g] must be finite", p.Low, p.High)
		case p.Low >= p.High:
			return fmt.Errorf("low %g must be below high %g", p.Low, p.High)
		case p.Kind == KindInt && (p.Low != math.Round(p.Low) || p.High != math.Round(p.High)):
			return fmt.Errorf("int bounds [%g, %g] must be whole", p.Low, p.High)
		case p.Kind == KindLogFloat && p.Low <= 0:
			return fmt.Errorf("a log scale needs low > 0, got %g", p.Low)
		}
	case KindChoice:
		if len(p.Choices) == 0 {
			return errors.New("no choices")
		}
		for i, c := range p.Choices {
			if !finite(c) {
				return fmt.Errorf("choice %g is not finite", c)
			}
			if p.choiceIndex(c) != i {
				return fmt.Errorf("choice %g appears twice", c)
			}
		}
	default:
		return fmt.Errorf("unknown kind %q (want int, float, logfloat or choice)", p.Kind)
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
