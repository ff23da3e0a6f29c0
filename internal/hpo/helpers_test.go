package hpo

import (
	"math"
	"testing"
)

// objective is a synthetic validation loss with its minimum 0.01 at
// learning rate 1e-3, 96 units, 2 layers and dropout 0.1.
func objective(p Point) float64 {
	lr := math.Log10(p["learning_rate"]) + 3
	u := (p["units"] - 96) / 32
	l := p["layers"] - 2
	return lr*lr + u*u + l*l + 0.1*p["dropout"]
}

// search runs trials sequentially, feeding each result back, and returns
// the history.
func search(t *testing.T, s Sampler, trials int) []Observation {
	t.Helper()
	var hist []Observation
	for i := 0; i < trials; i++ {
		p, err := s.Sample(i, hist)
		if err != nil {
			t.Fatalf("trial %d: %v", i, err)
		}
		hist = append(hist, Observation{Point: p, Value: objective(p), Step: 10})
	}
	return hist
}

// checkInside fails unless p has exactly the space's parameters, each a
// value it can take.
func checkInside(t *testing.T, space Space, p Point) {
	t.Helper()
	if len(p) != len(space) {
		t.Fatalf("point %v has %d parameters, want %d", p, len(p), len(space))
	}
	for _, prm := range space {
		v, ok := p[prm.Name]
		switch {
		case !ok:
			t.Fatalf("point %v lacks %s", p, prm.Name)
		case prm.Kind == KindChoice:
			if prm.choiceIndex(v) < 0 {
				t.Fatalf("%s = %v is not one of %v", prm.Name, v, prm.Choices)
			}
		case math.IsNaN(v) || v < prm.Low || v > prm.High:
			t.Fatalf("%s = %v outside [%v, %v]", prm.Name, v, prm.Low, prm.High)
		case prm.Kind == KindInt && v != math.Round(v):
			t.Fatalf("%s = %v is not whole", prm.Name, v)
		}
	}
}
