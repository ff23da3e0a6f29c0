package prep

import (
	"fmt"
	"math"
	"sort"

	"github.com/finsight/finsight/internal/frame"
)

// Outlier methods and strategies. Outliers are judged on daily log-returns,
// not price levels: a trending price has no outlying levels, a bad tick has
// an outlying return.
const (
	OutlierNone   = "none"
	OutlierZScore = "zscore" // robust: median ± K·1.4826·MAD
	OutlierIQR    = "iqr"    // [Q1 − K·IQR, Q3 + K·IQR]

	OutlierFlag = "flag" // report, keep the value
	OutlierClip = "clip" // replace the price so its return sits on the bound
	OutlierDrop = "drop" // remove the row (windows will not span the gap)
)

// OutlierSpec configures outlier handling.
type OutlierSpec struct {
	Method   string  `json:"method"`
	K        float64 `json:"k"`
	Strategy string  `json:"strategy"`
}

// DefaultOutlierSpec flags returns beyond 10 robust standard deviations:
// bad ticks, and the largest real moves (which are kept).
func DefaultOutlierSpec() OutlierSpec {
	return OutlierSpec{Method: OutlierZScore, K: 10, Strategy: OutlierFlag}
}

// Validate rejects unknown methods or strategies.
func (o OutlierSpec) Validate() error {
	switch o.Method {
	case OutlierNone:
		return nil
	case OutlierZScore, OutlierIQR:
	default:
		return fmt.Errorf("outlier method %q: want zscore, iqr or none", o.Method)
	}
	if !(o.K > 0) {
		return fmt.Errorf("outlier threshold k must be positive, got %g", o.K)
	}
	switch o.Strategy {
	case OutlierFlag, OutlierClip, OutlierDrop:
		return nil
	}
	return fmt.Errorf("outlier strategy %q: want flag, clip or drop", o.Strategy)
}

// Bounds are the accepted log-return range of each price column, fitted on
// the training split.
type Bounds struct {
	Lo map[string]float64 `json:"lo"`
	Hi map[string]float64 `json:"hi"`
}

// Outlier is one extreme return.
type Outlier struct {
	Date   string  `json:"date"`
	Row    int     `json:"row"`
	Column string  `json:"column"`
	Return float64 `json:"return"` // daily log-return
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
}

var priceColumns = []string{"open", "high", "low", "close", "adj_close"}

func priceColumn(b *frame.Bars, name string) []float64 {
	switch name {
	case "open":
		return b.Open
	case "high":
		return b.High
	case "low":
		return b.Low
	case "close":
		return b.Close
	case "adj_close":
		return b.AdjClose
	}
	return nil
}

// FitBounds fits the accepted return range of each price column on train.
func FitBounds(train *frame.Bars, spec OutlierSpec) (Bounds, error) {
	b := Bounds{Lo: map[string]float64{}, Hi: map[string]float64{}}
	if spec.Method == OutlierNone {
		return b, nil
	}
	for _, name := range priceColumns {
		rets := logReturns(priceColumn(train, name))
		if len(rets) < 4 {
			return b, fmt.Errorf("fit outlier bounds on %s: %d returns are too few", name, len(rets))
		}
		switch spec.Method {
		case OutlierZScore:
			med := quantileSelect(rets, 0.5)
			dev := make([]float64, len(rets))
			for i, r := range rets {
				dev[i] = math.Abs(r - med)
			}
			s := 1.4826 * quantileSelect(dev, 0.5)
			b.Lo[name], b.Hi[name] = med-spec.K*s, med+spec.K*s
		case OutlierIQR:
			q1, q3 := quantileSelect(rets, 0.25), quantileSelect(rets, 0.75)
			b.Lo[name], b.Hi[name] = q1-spec.K*(q3-q1), q3+spec.K*(q3-q1)
		}
	}
	return b, nil
}

// HandleOutliers finds returns outside the bounds in each price column and
// applies the strategy. prev holds the previous split's last prices by
// column (nil for the first split), so a split's first return is judged too.
func HandleOutliers(b *frame.Bars, bounds Bounds, spec OutlierSpec, prev map[string]float64) (*frame.Bars, []Outlier, int) {
	if spec.Method == OutlierNone {
		return b, nil, 0
	}
	out := b.Slice(0, b.Len())
	var found []Outlier
	clipped := 0
	drop := make([]bool, out.Len())
	for _, name := range priceColumns {
		col := priceColumn(out, name)
		last := math.NaN()
		if prev != nil {
			last = prev[name]
		}
		lo, hi := bounds.Lo[name], bounds.Hi[name]
		for r, v := range col {
			if math.IsNaN(v) || v <= 0 {
				continue
			}
			if !math.IsNaN(last) && last > 0 {
				ret := math.Log(v / last)
				if ret < lo || ret > hi {
					found = append(found, Outlier{Date: out.Date[r].Format("2006-01-02"), Row: r, Column: name, Return: ret, Lo: lo, Hi: hi})
					switch spec.Strategy {
					case OutlierClip:
						col[r] = last * math.Exp(math.Max(lo, math.Min(hi, ret)))
						clipped++
					case OutlierDrop:
						drop[r] = true
					}
				}
			}
			last = col[r]
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Row < found[j].Row })
	if spec.Strategy == OutlierDrop {
		keep := make([]bool, len(drop))
		for r := range keep {
			keep[r] = !drop[r]
		}
		out = keepRows(out, keep)
	}
	return out, found, clipped
}

// LastPrices returns each price column's last value, for the next split.
func LastPrices(b *frame.Bars) map[string]float64 {
	m := map[string]float64{}
	for _, name := range priceColumns {
		col := priceColumn(b, name)
		m[name] = math.NaN()
		if len(col) > 0 {
			m[name] = col[len(col)-1]
		}
	}
	return m
}

// logReturns are log(v[i]/v[i-1]) over consecutive positive values.
func logReturns(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for i := 1; i < len(v); i++ {
		if v[i] > 0 && v[i-1] > 0 {
			out = append(out, math.Log(v[i]/v[i-1]))
		}
	}
	return out
}
