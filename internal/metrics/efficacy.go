package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

// Comparison scores a model beside the naive forecast (tomorrow = the last
// known value) on exactly the same targets.
type Comparison struct {
	Model               Scores `json:"model"`
	Naive               Scores `json:"naive"`
	MASE                Maybe  `json:"mase"`                 // model MAE ÷ naive MAE (< 1: better than naive)
	DirectionalAccuracy Maybe  `json:"directional_accuracy"` // share of days the predicted move has the actual move's sign
	DMStat              Maybe  `json:"dm_stat"`              // Diebold–Mariano on squared errors; < 0: model better
	DMPValue            Maybe  `json:"dm_p_value"`           // two-sided
}

// Maybe is a number that may be undefined (NaN), written as JSON null.
type Maybe float64

// MarshalJSON writes NaN and ±Inf as null.
func (m Maybe) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(m))
}

// UnmarshalJSON reads null as NaN.
func (m *Maybe) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = Maybe(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*m = Maybe(f)
	return nil
}

// Compare scores pred against actual, with last[i] the value known when
// forecasting actual[i] (the naive forecast).
func Compare(actual, pred, last []float64) (Comparison, error) {
	if len(last) != len(actual) {
		return Comparison{}, fmt.Errorf("compare: %d last values for %d actual", len(last), len(actual))
	}
	var c Comparison
	var err error
	if c.Model, err = Score(actual, pred); err != nil {
		return c, err
	}
	if c.Naive, err = Score(actual, last); err != nil {
		return c, err
	}
	c.MASE = Maybe(math.NaN())
	if c.Naive.MAE > 0 {
		c.MASE = Maybe(c.Model.MAE / c.Naive.MAE)
	}
	c.DirectionalAccuracy = Maybe(directional(actual, pred, last))
	em, en := make([]float64, len(actual)), make([]float64, len(actual))
	for i := range actual {
		em[i], en[i] = pred[i]-actual[i], last[i]-actual[i]
	}
	stat, p := DieboldMariano(em, en, 1)
	c.DMStat, c.DMPValue = Maybe(stat), Maybe(p)
	return c, nil
}

// directional is the share of days with a real move whose sign the model
// got right (days where actual equals last are skipped).
func directional(actual, pred, last []float64) float64 {
	hit, n := 0, 0
	for i := range actual {
		move := actual[i] - last[i]
		if move == 0 {
			continue
		}
		n++
		if (pred[i]-last[i])*move > 0 {
			hit++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(hit) / float64(n)
}

// DieboldMariano tests equal accuracy of two forecasts from their errors,
// with squared-error loss: d = e1² − e2², statistic = mean(d) / sqrt(V/n)
// where V is the long-run variance of d with h−1 autocovariance lags (h =
// forecast horizon). A negative statistic means the first forecast is more
// accurate. The p-value is two-sided from the standard normal. NaN when the
// loss differential has no variance.
func DieboldMariano(e1, e2 []float64, h int) (stat, p float64) {
	n := len(e1)
	if n < 2 || len(e2) != n {
		return math.NaN(), math.NaN()
	}
	d := make([]float64, n)
	mean := 0.0
	for i := range d {
		d[i] = e1[i]*e1[i] - e2[i]*e2[i]
		mean += d[i]
	}
	mean /= float64(n)
	autocov := func(k int) float64 {
		s := 0.0
		for i := k; i < n; i++ {
			s += (d[i] - mean) * (d[i-k] - mean)
		}
		return s / float64(n)
	}
	v := autocov(0)
	for k := 1; k < h && k < n; k++ {
		v += 2 * autocov(k)
	}
	if !(v > 0) {
		return math.NaN(), math.NaN()
	}
	stat = mean / math.Sqrt(v/float64(n))
	p = math.Erfc(math.Abs(stat) / math.Sqrt2) // 2·(1 − Φ(|stat|))
	return stat, p
}

// Slice is a comparison restricted to part of the test period.
type Slice struct {
	Name string `json:"name"`
	Comparison
}

// ByYear compares per calendar year of the target date.
func ByYear(dates []time.Time, actual, pred, last []float64) ([]Slice, error) {
	groups := map[string][]int{}
	var names []string
	for i, d := range dates {
		y := fmt.Sprint(d.Year())
		if _, ok := groups[y]; !ok {
			names = append(names, y)
		}
		groups[y] = append(groups[y], i)
	}
	sort.Strings(names)
	return slices(names, groups, actual, pred, last)
}

// ByVolatility compares per tercile (low, mid, high) of realized volatility:
// the standard deviation of the window daily log-returns of last before
// each target, known at forecast time. The first window days are skipped.
func ByVolatility(actual, pred, last []float64, window int) ([]Slice, error) {
	vol := make([]float64, len(last))
	var valid []float64
	for i := range last {
		vol[i] = math.NaN()
		if i < window {
			continue
		}
		var s, sq float64
		for j := i - window + 1; j <= i; j++ {
			r := math.Log(last[j] / last[j-1])
			s += r
			sq += r * r
		}
		m := s / float64(window)
		vol[i] = math.Sqrt(math.Max(sq/float64(window)-m*m, 0))
		valid = append(valid, vol[i])
	}
	if len(valid) < 3 {
		return nil, fmt.Errorf("volatility slices: %d days after a %d-day window are too few", len(valid), window)
	}
	sort.Float64s(valid)
	lo, hi := valid[len(valid)/3], valid[2*len(valid)/3]
	groups := map[string][]int{}
	for i, v := range vol {
		switch {
		case math.IsNaN(v):
		case v < lo:
			groups["low volatility"] = append(groups["low volatility"], i)
		case v < hi:
			groups["mid volatility"] = append(groups["mid volatility"], i)
		default:
			groups["high volatility"] = append(groups["high volatility"], i)
		}
	}
	return slices([]string{"low volatility", "mid volatility", "high volatility"}, groups, actual, pred, last)
}

func slices(names []string, groups map[string][]int, actual, pred, last []float64) ([]Slice, error) {
	var out []Slice
	for _, name := range names {
		idx := groups[name]
		if len(idx) == 0 {
			continue
		}
		a, p, l := pick(actual, idx), pick(pred, idx), pick(last, idx)
		c, err := Compare(a, p, l)
		if err != nil {
			return nil, fmt.Errorf("slice %s: %w", name, err)
		}
		out = append(out, Slice{Name: name, Comparison: c})
	}
	return out, nil
}

func pick(v []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}
