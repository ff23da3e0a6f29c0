package hpo

import (
	"fmt"
	"math"
	"math/rand"
)

// Observation is a finished trial.
type Observation struct {
	Point  Point   `json:"point"`
	Value  float64 `json:"value"` // best validation loss; lower is better
	Pruned bool    `json:"pruned"`
	Step   int     `json:"step"` // epochs reached
}

// Sampler proposes the configuration of trial number trial (0-based) from
// the trials finished so far. The same inputs always give the same point.
type Sampler interface {
	Sample(trial int, history []Observation) (Point, error)
}

// New returns a "random" or "tpe" sampler over space.
func New(kind string, space Space, seed int64) (Sampler, error) {
	if err := space.Validate(); err != nil {
		return nil, err
	}
	switch kind {
	case "random":
		return NewRandom(space, seed), nil
	case "tpe", "":
		return NewTPE(space, seed, TPEOptions{}), nil
	}
	return nil, fmt.Errorf("unknown sampler %q: want random or tpe", kind)
}

// trialRand is the randomness of one trial: it depends on the seed and the
// trial number only, never on call order.
func trialRand(seed int64, trial int) *rand.Rand {
	return rand.New(rand.NewSource(seed*1_000_003 + int64(trial)*7_919 + 17))
}

type randomSampler struct {
	space Space
	seed  int64
}

// NewRandom samples every parameter independently and uniformly (in log
// space for logfloat).
func NewRandom(space Space, seed int64) Sampler { return randomSampler{space: space, seed: seed} }

func (r randomSampler) Sample(trial int, _ []Observation) (Point, error) {
	return uniformPoint(r.space, trialRand(r.seed, trial)), nil
}

func uniformPoint(space Space, rng *rand.Rand) Point {
	p := Point{}
	for _, prm := range space {
		if prm.Kind == KindChoice {
			p[prm.Name] = prm.Choices[rng.Intn(len(prm.Choices))]
			continue
		}
		lo, hi := prm.bounds()
		p[prm.Name] = prm.fromUnit(lo + rng.Float64()*(hi-lo))
	}
	return p
}

// Best returns the finished, unpruned trial with the lowest finite value.
func Best(history []Observation) (Observation, bool) {
	best, ok := Observation{Value: math.Inf(1)}, false
	for _, o := range history {
		if o.Pruned || math.IsNaN(o.Value) || math.IsInf(o.Value, 0) {
			continue
		}
		if o.Value < best.Value {
			best, ok = o, true
		}
	}
	return best, ok
}
