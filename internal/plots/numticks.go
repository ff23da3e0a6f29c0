package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// shortNumberTicks are plot.DefaultTicks labelled with a K, M or B suffix
// (300M rather than 3e+08).
type shortNumberTicks struct{}

var _ plot.Ticker = shortNumberTicks{}

// Ticks implements plot.Ticker.
func (shortNumberTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = shortNumber(ticks[i].Value)
		}
	}
	return ticks
}

// shortNumber formats v with at most three significant digits and a
// thousands suffix.
func shortNumber(v float64) string {
	suffixes := []struct {
		scale float64
		name  string
	}{{1e9, "B"}, {1e6, "M"}, {1e3, "K"}}
	v = roundSignificant(v, 3)
	for _, s := range suffixes {
		if math.Abs(v) >= s.scale {
			return strconv.FormatFloat(v/s.scale, 'g', 3, 64) + s.name
		}
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// roundSignificant rounds v to n significant digits.
func roundSignificant(v float64, n int) float64 {
	if v == 0 || !finite(v) {
		return v
	}
	pow := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*pow) / pow
}
