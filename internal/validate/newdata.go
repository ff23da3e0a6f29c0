package validate

import (
	"math"

	"github.com/finsight/finsight/internal/frame"
)

// ColumnDrift is one return column of new data against the training
// statistics a model saw.
type ColumnDrift struct {
	Column string  `json:"column"`
	N      int     `json:"n"`    // returns in the new data
	JS     float64 `json:"js"`   // Jensen–Shannon divergence, bits, over equal-mass training bins
	KSD    float64 `json:"ks_d"` // Kolmogorov–Smirnov distance
	KSP    float64 `json:"ks_p"` // its p-value
}

// ReturnDrift measures how far the daily log-returns of each return column
// of b (Close and Open) moved from the training statistics train. A column
// with fewer than two returns on either side is left out.
func ReturnDrift(b *frame.Bars, train Stats, cfg Config) []ColumnDrift {
	cfg = cfg.withDefaults()
	var out []ColumnDrift
	buf := make([]float64, 0, b.Len())
	for _, c := range returnColumns(b) {
		ts, ok := train.Column(c.name)
		if !ok || ts.Count < 2 || len(ts.Quantiles) < 2 {
			continue
		}
		buf = sortedInPlace(appendLogReturns(buf[:0], c.values))
		if len(buf) < 2 {
			continue
		}
		d := ksAgainstSketch(buf, ts.Quantiles)
		js := jsAgainstSketch(buf, ts.Quantiles, cfg.Bins)
		if math.IsNaN(js) {
			js = 0
		}
		out = append(out, ColumnDrift{Column: c.name, N: len(buf), JS: js, KSD: d, KSP: ksPValue(d, len(buf), ts.Count)})
	}
	return out
}
