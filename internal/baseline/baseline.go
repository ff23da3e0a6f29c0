// Package baseline makes the simple forecasts a model has to beat, on the
// same targets the model is scored on. Each forecast of the value at row t
// uses only rows up to its origin t−horizon, so a baseline can never look
// ahead; a model that cannot beat these has learned nothing useful.
package baseline

import (
	"fmt"
	"math"
)

// Baseline names, as they appear in backtest summaries.
const (
	KindNaive = "naive"
	KindDrift = "drift"
	KindEWMA  = "ewma"
)

// DefaultHalfLife is the EWMA's half-life in rows when none is given:
// about a month of trading days, long enough to average out daily noise,
// short enough to follow a trend that changes within a year.
const DefaultHalfLife = 20

// Options tune the baselines; zero values mean the defaults.
type Options struct {
	Horizon  int     `json:"horizon"`        // rows from origin to target; 0 = 1
	HalfLife float64 `json:"ewma_half_life"` // rows; 0 = DefaultHalfLife
}

// Kinds lists every baseline, in the order reports show them.
func Kinds() []string { return []string{KindNaive, KindDrift, KindEWMA} }

// Forecast runs the baseline called kind on series (oldest first) for the
// rows in targets.
func Forecast(kind string, series []float64, targets []int, o Options) ([]float64, error) {
	if o.Horizon < 0 {
		return nil, fmt.Errorf("baseline: horizon must not be negative, got %d", o.Horizon)
	}
	h := max(o.Horizon, 1)
	switch kind {
	case KindNaive:
		return Naive(series, targets, h)
	case KindDrift:
		return Drift(series, targets, h)
	case KindEWMA:
		hl := o.HalfLife
		if hl == 0 {
			hl = DefaultHalfLife
		}
		return EWMA(series, targets, h, hl)
	}
	return nil, fmt.Errorf("baseline: unknown kind %q: want naive, drift or ewma", kind)
}

// Naive forecasts y[t] as y[t−h], the last value known at the origin.
func Naive(y []float64, targets []int, h int) ([]float64, error) {
	if err := checkTargets("naive", y, targets, h, 0); err != nil {
		return nil, err
	}
	out := make([]float64, len(targets))
	for i, t := range targets {
		if err := finite("naive", y, t-h); err != nil {
			return nil, err
		}
		out[i] = y[t-h]
	}
	return out, nil
}

// Drift is the random walk with drift (Hyndman & Athanasopoulos, FPP
// §5.2): from origin o = t−h, y[o] + h·(y[o] − y[0])/o, the average change
// over all history up to the origin. All history, not a fold's training
// window, because that is the textbook method; to restrict it to a
// window, pass the window's slice of the series and shift the targets.
func Drift(y []float64, targets []int, h int) ([]float64, error) {
	if err := checkTargets("drift", y, targets, h, 1); err != nil {
		return nil, err
	}
	if err := finite("drift", y, 0); err != nil {
		return nil, err
	}
	out := make([]float64, len(targets))
	for i, t := range targets {
		o := t - h
		if err := finite("drift", y, o); err != nil {
			return nil, err
		}
		out[i] = y[o] + float64(h)*(y[o]-y[0])/float64(o)
	}
	return out, nil
}

// EWMA forecasts from origin o = t−h as y[o]·(1+m)^h, where m is the
// exponentially weighted mean of the simple returns y[i]/y[i−1] − 1 for
// i = 1..o, the weight of a return halving every halfLife rows. Weights
// are normalised over the returns there are (pandas' adjust=True), so the
// first return gets no special weight. Simple returns, not log returns,
// because then m is the expected relative change the forecast applies.
func EWMA(y []float64, targets []int, h int, halfLife float64) ([]float64, error) {
	if !(halfLife > 0) || math.IsInf(halfLife, 0) {
		return nil, fmt.Errorf("ewma: half-life must be a positive number of rows, got %g", halfLife)
	}
	if err := checkTargets("ewma", y, targets, h, 1); err != nil {
		return nil, err
	}
	means, err := ewmaReturns(y, maxOrigin(targets, h), 1-math.Exp2(-1/halfLife))
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(targets))
	for i, t := range targets {
		o := t - h
		out[i] = y[o] * math.Pow(1+means[o], float64(h))
	}
	return out, nil
}

// ewmaReturns returns, for each origin o in 1..last, the weighted mean of
// the returns up to o, in one pass: num and den are the weighted sums of
// returns and of weights, each decayed by 1−alpha per row.
func ewmaReturns(y []float64, last int, alpha float64) ([]float64, error) {
	means := make([]float64, last+1)
	means[0] = math.NaN()
	if err := finite("ewma", y, 0); err != nil {
		return nil, err
	}
	var num, den float64
	for i := 1; i <= last; i++ {
		if err := finite("ewma", y, i); err != nil {
			return nil, err
		}
		if !(y[i-1] > 0) {
			return nil, fmt.Errorf("ewma: value %g at row %d is not positive, so the return after it is undefined", y[i-1], i-1)
		}
		num = y[i]/y[i-1] - 1 + (1-alpha)*num
		den = 1 + (1-alpha)*den
		means[i] = num / den
	}
	return means, nil
}

// checkTargets makes sure every target lies in y and has at least
// minOrigin rows before its origin.
func checkTargets(name string, y []float64, targets []int, h, minOrigin int) error {
	if h < 1 {
		return fmt.Errorf("%s: horizon must be at least 1, got %d", name, h)
	}
	for _, t := range targets {
		if t >= len(y) || t-h < minOrigin {
			return fmt.Errorf("%s: target row %d needs rows %d..%d of a %d-row series", name, t, t-h-minOrigin, t, len(y))
		}
	}
	return nil
}

func finite(name string, y []float64, i int) error {
	if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
		return fmt.Errorf("%s: value at row %d is not a number (%g); fill gaps before forecasting", name, i, y[i])
	}
	return nil
}

func maxOrigin(targets []int, h int) int {
	m := 0
	for _, t := range targets {
		m = max(m, t-h)
	}
	return m
}
