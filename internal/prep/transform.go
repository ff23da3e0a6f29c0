package prep

import (
	"fmt"
	"math"

	"github.com/finsight/finsight/internal/frame"
)

// Target modes: what the model sees and predicts.
const (
	// TargetPrice: scaled price levels in, the scaled next Open out (the
	// reference project). Test prices outside the training range are
	// extrapolation; Coverage reports how much.
	TargetPrice = "price"
	// TargetLogReturn: scaled daily log-returns in, the log-return from the
	// last Open to the Open `horizon` days later out. The price forecast is
	// lastOpen·exp(prediction), so new price levels are not extrapolation.
	TargetLogReturn = "logret"

	ScalerMinMax   = "minmax"
	ScalerStandard = "standard"
)

// Features that windows may be made of.
var knownFeatures = map[string]bool{"open": true, "high": true, "low": true, "close": true, "adj_close": true, "volume": true}

// TransformSpec chooses the model's inputs and output.
type TransformSpec struct {
	Target   string   `json:"target"`
	Scaler   string   `json:"scaler"`
	Features []string `json:"features"` // first is not special; the label is always about Open
}

// DefaultTransformSpec models log-returns of Open, standardised.
func DefaultTransformSpec() TransformSpec {
	return TransformSpec{Target: TargetLogReturn, Scaler: ScalerStandard, Features: []string{"open"}}
}

// Validate rejects unknown modes, scalers and features.
func (s TransformSpec) Validate() error {
	if s.Target != TargetPrice && s.Target != TargetLogReturn {
		return fmt.Errorf("target %q: want price or logret", s.Target)
	}
	if s.Scaler != ScalerMinMax && s.Scaler != ScalerStandard {
		return fmt.Errorf("scaler %q: want minmax or standard", s.Scaler)
	}
	if len(s.Features) == 0 {
		return fmt.Errorf("at least one feature is needed")
	}
	seen := map[string]bool{}
	for _, f := range s.Features {
		if !knownFeatures[f] {
			return fmt.Errorf("unknown feature %q: want open, high, low, close, adj_close or volume", f)
		}
		if seen[f] {
			return fmt.Errorf("feature %q given twice", f)
		}
		seen[f] = true
	}
	return nil
}

// Affine maps v to (v − Shift) / Scale.
type Affine struct {
	Name  string  `json:"name"`
	Shift float64 `json:"shift"`
	Scale float64 `json:"scale"`
	Min   float64 `json:"min"` // training range of the raw feature, for coverage
	Max   float64 `json:"max"`
}

func (a Affine) apply(v float64) float64   { return (v - a.Shift) / a.Scale }
func (a Affine) inverse(v float64) float64 { return v*a.Scale + a.Shift }

// Transform is a fitted TransformSpec: one scaler per feature and one for
// the label. It is saved with the model (scaler.json) so serving applies
// exactly what training did.
type Transform struct {
	Spec     TransformSpec `json:"spec"`
	Features []Affine      `json:"features"`
	Label    Affine        `json:"label"`
	Horizon  int           `json:"horizon"`
}

// FitTransform fits every scaler on the training split only.
func FitTransform(spec TransformSpec, train *frame.Bars, horizon int) (Transform, error) {
	if err := spec.Validate(); err != nil {
		return Transform{}, err
	}
	if horizon < 1 {
		return Transform{}, fmt.Errorf("horizon must be at least 1, got %d", horizon)
	}
	t := Transform{Spec: spec, Horizon: horizon}
	for _, f := range spec.Features {
		a, err := fitAffine(f, spec.Scaler, t.rawFeature(train, f))
		if err != nil {
			return Transform{}, err
		}
		t.Features = append(t.Features, a)
	}
	label, err := fitAffine("label", spec.Scaler, t.rawLabels(train))
	if err != nil {
		return Transform{}, err
	}
	t.Label = label
	return t, nil
}

func fitAffine(name, kind string, vs []float64) (Affine, error) {
	a := Affine{Name: name, Min: math.Inf(1), Max: math.Inf(-1)}
	var sum, sq float64
	n := 0
	for _, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		if math.IsInf(v, 0) {
			return a, fmt.Errorf("fit %s scaler: infinite value", name)
		}
		a.Min, a.Max = math.Min(a.Min, v), math.Max(a.Max, v)
		sum += v
		sq += v * v
		n++
	}
	if n < 2 {
		return a, fmt.Errorf("fit %s scaler: %d values are too few", name, n)
	}
	switch kind {
	case ScalerMinMax:
		a.Shift, a.Scale = a.Min, a.Max-a.Min
	case ScalerStandard:
		mean := sum / float64(n)
		a.Shift, a.Scale = mean, math.Sqrt(math.Max(sq/float64(n)-mean*mean, 0))
	}
	if !(a.Scale > 0) {
		return a, fmt.Errorf("fit %s scaler: the training values are constant", name)
	}
	return a, nil
}

// rawFeature is one unscaled feature per row: the column itself (price
// mode), or its log-return from the previous row (NaN on row 0 and across
// breaks). Volume in log-return mode is log(1+volume) differenced.
func (t Transform) rawFeature(b *frame.Bars, name string) []float64 {
	col := featureColumn(b, name)
	if t.Spec.Target == TargetPrice {
		return col
	}
	out := make([]float64, len(col))
	for _, seg := range b.Segments() {
		out[seg[0]] = math.NaN()
		for r := seg[0] + 1; r < seg[1]; r++ {
			if name == "volume" {
				out[r] = math.Log1p(math.Max(col[r], 0)) - math.Log1p(math.Max(col[r-1], 0))
			} else {
				out[r] = math.Log(col[r] / col[r-1])
			}
		}
	}
	return out
}

// rawLabels is, per row r, the unscaled label of a window ending at r
// (NaN where the horizon runs past the segment).
func (t Transform) rawLabels(b *frame.Bars) []float64 {
	out := make([]float64, b.Len())
	for i := range out {
		out[i] = math.NaN()
	}
	for _, seg := range b.Segments() {
		for r := seg[0]; r+t.Horizon < seg[1]; r++ {
			out[r] = t.labelValue(b.Open[r], b.Open[r+t.Horizon])
		}
	}
	return out
}

func (t Transform) labelValue(last, target float64) float64 {
	if t.Spec.Target == TargetPrice {
		return target
	}
	return math.Log(target / last)
}

// Price turns a scaled model output back into a price, given the last Open
// of the window.
func (t Transform) Price(lastOpen float64, scaled float64) float64 {
	v := t.Label.inverse(scaled)
	if t.Spec.Target == TargetPrice {
		return v
	}
	return lastOpen * math.Exp(v)
}

// Coverage is the share of a split's raw feature values inside the
// training range, per feature (1 = no extrapolation).
func (t Transform) Coverage(b *frame.Bars) map[string]float64 {
	out := map[string]float64{}
	for i, f := range t.Spec.Features {
		in, n := 0, 0
		for _, v := range t.rawFeature(b, f) {
			if math.IsNaN(v) {
				continue
			}
			n++
			if v >= t.Features[i].Min && v <= t.Features[i].Max {
				in++
			}
		}
		out[f] = 1
		if n > 0 {
			out[f] = float64(in) / float64(n)
		}
	}
	return out
}

// Steps is how many time steps of features a window of lookback rows
// gives the model: log-returns use the window's first row only as the base
// of the second row's return.
func (t Transform) Steps(lookback int) int { return lookback - t.warmup() }

// warmup is the number of rows at the start of a window without a feature.
func (t Transform) warmup() int {
	if t.Spec.Target == TargetLogReturn {
		return 1
	}
	return 0
}

func featureColumn(b *frame.Bars, name string) []float64 {
	if name == "volume" {
		return b.Volume
	}
	return priceColumn(b, name)
}
