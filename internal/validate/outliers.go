package validate

import (
	"fmt"
	"math"

	"github.com/finsight/finsight/internal/frame"
)

// appendOutliers reports the rows of b whose daily log-return of the price
// column behind ret lies more than cfg.OutlierZ robust standard deviations
// (1.4826·MAD) from the training median return. It compares price ratios
// against precomputed bounds, so it takes no logarithm per row.
func appendOutliers(out []Anomaly, b *frame.Bars, ret column, train ColumnStats, cfg Config) []Anomaly {
	scale := madScale * train.MAD
	if train.Count < cfg.MinSamples || !(scale > 0) {
		return out
	}
	lo := math.Exp(train.Median - cfg.OutlierZ*scale)
	hi := math.Exp(train.Median + cfg.OutlierZ*scale)
	prev := -1
	for r, v := range ret.values {
		if !validPrice(v) {
			continue
		}
		if prev >= 0 {
			if ratio := v / ret.values[prev]; ratio < lo || ratio > hi {
				out = append(out, outlierAnomaly(b, priceColumnOf(ret.name), r, prev, train.Median, scale, cfg.OutlierZ))
			}
		}
		prev = r
	}
	return out
}

// outlierAnomaly describes the outlying return from row prev to row r,
// noting when a price lies outside its row's [low, high] (a bad tick).
func outlierAnomaly(b *frame.Bars, col string, r, prev int, median, scale, threshold float64) Anomaly {
	values := b.Close
	if col == ColumnOpen {
		values = b.Open
	}
	ret := math.Log(values[r] / values[prev])
	z := (ret - median) / scale
	detail := fmt.Sprintf("%s log-return %.4f (%g → %g) is %.1f robust SDs from the training median (threshold %g)",
		col, ret, values[prev], values[r], z, threshold)
	switch {
	case outsideRowRange(b, values, r):
		detail += fmt.Sprintf("; %s outside the row's [low, high]: likely a bad tick", col)
	case outsideRowRange(b, values, prev):
		detail += fmt.Sprintf("; previous %s (%s) outside its row's [low, high]: back from a bad tick", col, b.Date[prev].Format(dateLayout))
	}
	return rowAnomaly(b, r, SeverityWarning, RuleOutlierReturn, col, detail, z)
}

// outsideRowRange reports a price outside the present low/high of its row.
func outsideRowRange(b *frame.Bars, values []float64, r int) bool {
	v, lo, hi := values[r], b.Low[r], b.High[r]
	return (!isMissing(lo) && v < lo) || (!isMissing(hi) && v > hi)
}
