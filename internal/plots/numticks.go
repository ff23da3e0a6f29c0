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

// Ticks implements plot.Ticker. Labels get three significant digits, or
// as many more as it takes for neighbouring labels to differ (a range
// from 10.86 to 10.88 reads 10.865, 10.87, ... rather than 10.9 thrice).
func (shortNumberTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for digits := 3; digits <= 9; digits++ {
		seen := map[string]bool{}
		distinct := true
		for i := range ticks {
			if ticks[i].Label == "" {
				continue
			}
			ticks[i].Label = shortNumberDigits(ticks[i].Value, digits)
			distinct = distinct && !seen[ticks[i].Label]
			seen[ticks[i].Label] = true
		}
		if distinct {
			break
		}
	}
	return ticks
}

// shortNumber formats v with at most three significant digits and a
// thousands suffix.
func shortNumber(v float64) string { return shortNumberDigits(v, 3) }

// shortNumberDigits formats v with at most n significant digits and a
// thousands suffix.
func shortNumberDigits(v float64, n int) string {
	suffixes := []struct {
		scale float64
		name  string
	}{{1e9, "B"}, {1e6, "M"}, {1e3, "K"}}
	v = roundSignificant(v, n)
	for _, s := range suffixes {
		if math.Abs(v) >= s.scale {
			return strconv.FormatFloat(v/s.scale, 'g', n, 64) + s.name
		}
	}
	return strconv.FormatFloat(v, 'g', n, 64)
}

// roundSignificant rounds v to n significant digits.
func roundSignificant(v float64, n int) float64 {
	if v == 0 || !finite(v) {
		return v
	}
	pow := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*pow) / pow
}
