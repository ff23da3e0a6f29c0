// Package hpo is hyperparameter search: a search space, seeded samplers
// (random and TPE) and the median pruning rule. It is deterministic given
// its inputs, so it can run inside Temporal workflow code.
package hpo

import (
	"fmt"
	"math"
)

// Parameter kinds.
const (
	KindInt      = "int"      // integer in [Low, High]
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

// Space is an ordered list of parameters.
type Space []Param

// Point is one configuration (ints as whole floats).
type Point map[string]float64

// DefaultSpace is the reference project's search space: units 32–128,
// layers 1–3, dropout 0.1–0.5, learning rate 1e-4–1e-2 on a log scale,
// batch 32, 64 or 128.
func DefaultSpace() Space {
	return Space{
		{Name: "units", Kind: KindInt, Low: 32, High: 128},
		{Name: "layers", Kind: KindInt, Low: 1, High: 3},
		{Name: "dropout", Kind: KindFloat, Low: 0.1, High: 0.5},
		{Name: "learning_rate", Kind: KindLogFloat, Low: 1e-4, High: 1e-2},
		{Name: "batch_size", Kind: KindChoice, Choices: []float64{32, 64, 128}},
	}
}

// Validate rejects empty names, duplicates, unknown kinds and bad ranges.
func (s Space) Validate() error {
	seen := map[string]bool{}
	for _, p := range s {
		switch {
		case p.Name == "":
			return fmt.Errorf("a parameter has no name")
		case seen[p.Name]:
			return fmt.Errorf("parameter %q appears twice", p.Name)
		}
		seen[p.Name] = true
		switch p.Kind {
		case KindInt, KindFloat, KindLogFloat:
			if !(p.Low < p.High) {
				return fmt.Errorf("parameter %q: low %g must be below high %g", p.Name, p.Low, p.High)
			}
			if p.Kind == KindLogFloat && p.Low <= 0 {
				return fmt.Errorf("parameter %q: a log scale needs low > 0, got %g", p.Name, p.Low)
			}
		case KindChoice:
			if len(p.Choices) == 0 {
				return fmt.Errorf("parameter %q: no choices", p.Name)
			}
		default:
			return fmt.Errorf("parameter %q: unknown kind %q", p.Name, p.Kind)
		}
	}
	return nil
}

// toUnit maps a value of p into the internal search coordinate: [low, high]
// for floats and ints, log of the value for logfloat, the index for choices.
func (p Param) toUnit(v float64) float64 {
	switch p.Kind {
	case KindLogFloat:
		return math.Log(v)
	case KindChoice:
		for i, c := range p.Choices {
			if c == v {
				return float64(i)
			}
		}
		return 0
	}
	return v
}

// bounds are the internal coordinate's range.
func (p Param) bounds() (float64, float64) {
	switch p.Kind {
	case KindLogFloat:
		return math.Log(p.Low), math.Log(p.High)
	case KindInt:
		return p.Low - 0.5, p.High + 0.5 // each integer gets an equal share
	}
	return p.Low, p.High
}

// fromUnit maps an internal coordinate back to a valid value of p.
func (p Param) fromUnit(u float64) float64 {
	switch p.Kind {
	case KindLogFloat:
		return math.Min(p.High, math.Max(p.Low, math.Exp(u)))
	case KindInt:
		return math.Min(p.High, math.Max(p.Low, math.Round(u)))
	case KindChoice:
		i := int(math.Round(u))
		return p.Choices[max(0, min(len(p.Choices)-1, i))]
	}
	return math.Min(p.High, math.Max(p.Low, u))
}
