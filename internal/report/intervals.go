package report

import (
	"github.com/finsight/finsight/internal/metrics"
)

// calibrationSize is how many validation residuals the bands were
// calibrated on (0: none).
func calibrationSize(iv *metrics.Intervals) int {
	if iv == nil || len(iv.Model) == 0 {
		return 0
	}
	return iv.Model[0].N
}

// scaleWords says what the served half-widths are in.
func scaleWords(iv *metrics.Intervals) string {
	if iv != nil && iv.Scale == metrics.ScaleLastOpen {
		return "a share of the window's last Open"
	}
	return "price units"
}

// intervalSummary writes each level's test coverage and mean width, model
// beside naive, for the served bands and, for comparison, plain ones in
// price units.
func intervalSummary(p *printer, iv *metrics.Intervals) {
	if iv == nil {
		return
	}
	p.f("  prediction intervals (split conformal on %d validation residuals, half-widths in %s), on the test split:\n",
		calibrationSize(iv), scaleWords(iv))
	p.f("    %-10s %6s %15s %15s %12s %12s\n", "", "level", "model coverage", "naive coverage", "model width", "naive width")
	rows := func(name string, tests []metrics.IntervalTest) {
		for _, r := range tests {
			p.f("    %-10s %6s %15s %15s %12.4f %12.4f\n", name, pct(metrics.Maybe(r.Level)), pct(metrics.Maybe(r.ModelCoverage)),
				pct(metrics.Maybe(r.NaiveCoverage)), r.ModelWidth, r.NaiveWidth)
		}
	}
	rows("served", iv.Test)
	rows("absolute", iv.AbsoluteTest)
	for _, n := range iv.Notes {
		p.f("    note: %s\n", n)
	}
}
