package hpo

import "math"

// The samplers work in an internal coordinate per numeric parameter:
//
//	float     the value itself, range [Low, High]
//	logfloat  ln(value), range [ln Low, ln High] (so log-uniform is uniform)
//	int       the value itself, range [Low-0.5, High+0.5], so that rounding
//	          gives every integer an equal share of the range
//
// Choices are handled by index and never get a coordinate.

// bounds is the internal coordinate's range.
func (p Param) bounds() (lo, hi float64) {
	switch p.Kind {
	case KindLogFloat:
		return math.Log(p.Low), math.Log(p.High)
	case KindInt:
		return p.Low - 0.5, p.High + 0.5
	}
	return p.Low, p.High
}

// coord maps a value of p to its internal coordinate, clipped to bounds;
// ok is false for a value that has none (NaN, or ≤ 0 on a log scale).
func (p Param) coord(v float64) (c float64, ok bool) {
	if math.IsNaN(v) || (p.Kind == KindLogFloat && v <= 0) {
		return 0, false
	}
	if p.Kind == KindLogFloat {
		v = math.Log(v)
	}
	lo, hi := p.bounds()
	return math.Min(hi, math.Max(lo, v)), true
}

// value maps an internal coordinate back to a valid value of p: rounded
// for ints, and always clipped to [Low, High].
func (p Param) value(c float64) float64 {
	switch p.Kind {
	case KindLogFloat:
		lo, hi := p.bounds()
		switch {
		case c <= lo: // exp(ln x) need not give x back exactly
			return p.Low
		case c >= hi:
			return p.High
		}
		c = math.Exp(c)
	case KindInt:
		c = math.Round(c)
	}
	return math.Min(p.High, math.Max(p.Low, c))
}

// choiceIndex is the index of v in p.Choices, or -1.
func (p Param) choiceIndex(v float64) int {
	for i, c := range p.Choices {
		if c == v {
			return i
		}
	}
	return -1
}
