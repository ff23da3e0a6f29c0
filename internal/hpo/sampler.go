package hpo

import (
	"fmt"
	"math/rand"
)

// Observation is a trial that has ended, in the order the caller chooses
// (the samplers never depend on anything but the slice's contents).
type Observation struct {
	Point  Point   `json:"point"`
	Value  float64 `json:"value"` // validation loss; lower is better
	Pruned bool    `json:"pruned"`
	Step   int     `json:"step"` // epochs reached
}

// Sampler proposes the configuration of trial number trial (0-based) from
// the trials that have ended so far. The same sampler, trial and history
// always give the same point, whatever was sampled before.
type Sampler interface {
	Sample(trial int, history []Observation) (Point, error)
}

// New returns the sampler named kind ("random" or "tpe"; "" means tpe)
// over space, TPE with default options.
func New(kind string, space Space, seed int64) (Sampler, error) {
	if err := space.Validate(); err != nil {
		return nil, fmt.Errorf("new %q sampler: %w", kind, err)
	}
	switch kind {
	case "random":
		return NewRandom(space, seed), nil
	case "tpe", "":
		return NewTPE(space, seed, TPEOptions{}), nil
	}
	return nil, fmt.Errorf("unknown sampler %q: want random or tpe", kind)
}

// NewRandom samples every parameter independently and uniformly: floats
// uniform, logfloats log-uniform, every integer and every choice equally
// likely. It ignores the history.
func NewRandom(space Space, seed int64) Sampler { return randomSampler{space: space, seed: seed} }

type randomSampler struct {
	space Space
	seed  int64
}

func (r randomSampler) Sample(trial int, _ []Observation) (Point, error) {
	if err := checkTrial(r.space, trial); err != nil {
		return nil, fmt.Errorf("random sampler: %w", err)
	}
	return uniformPoint(r.space, trialRand(r.seed, trial)), nil
}

func checkTrial(space Space, trial int) error {
	if trial < 0 {
		return fmt.Errorf("trial %d: the index must be ≥ 0", trial)
	}
	if err := space.Validate(); err != nil {
		return fmt.Errorf("trial %d: %w", trial, err)
	}
	return nil
}

func uniformPoint(space Space, rng *rand.Rand) Point {
	p := make(Point, len(space))
	for _, prm := range space {
		if prm.Kind == KindChoice {
			p[prm.Name] = prm.Choices[rng.Intn(len(prm.Choices))]
			continue
		}
		lo, hi := prm.bounds()
		p[prm.Name] = prm.value(lo + rng.Float64()*(hi-lo))
	}
	return p
}

// trialRand is the randomness of one trial. It depends on the seed and the
// trial index only, never on call order; both are mixed by splitmix64 so
// that neighbouring seeds and trials get unrelated streams.
func trialRand(seed int64, trial int) *rand.Rand {
	s := splitmix64(splitmix64(uint64(seed)) + uint64(trial))
	return rand.New(rand.NewSource(int64(s)))
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
