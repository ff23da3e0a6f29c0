package validate

import (
	"fmt"
	"strings"

	"github.com/finsight/finsight/internal/frame"
)

// CheckRules checks the rules that always hold for daily bars, row by row:
// present, positive prices; High ≥ max(Open, Close); Low ≤ min(Open,
// Close); Volume ≥ 0 (zero is reported); strictly increasing weekday dates;
// no missing NYSE trading days and no long closures (gaps). Anomalies are
// sorted by row, then rule.
func CheckRules(b *frame.Bars, cfg Config) []Anomaly {
	out := appendRules(nil, b, cfg.withDefaults())
	sortAnomalies(out)
	return out
}

// appendRules appends the row rules' anomalies of b, or its shape
// anomalies when it cannot be checked row by row.
func appendRules(out []Anomaly, b *frame.Bars, cfg Config) []Anomaly {
	if !wellShaped(b) {
		return appendShapeAnomalies(out, b)
	}
	prevDay := int64(0)
	for r := range b.Len() {
		out = appendValueRules(out, b, r)
		day := dayNumber(b.Date[r])
		if isWeekend(weekdayOf(day)) {
			out = append(out, rowAnomaly(b, r, SeverityWarning, RuleWeekendDate, "",
				fmt.Sprintf("date is a %s", weekdayOf(day)), 0))
		}
		if r > 0 {
			out = appendDateOrder(out, b, r, prevDay, day, cfg)
		}
		prevDay = day
	}
	return out
}

// wellShaped reports bars with rows and one value per date in every column.
func wellShaped(b *frame.Bars) bool {
	if b.Len() == 0 {
		return false
	}
	for _, c := range valueColumns(b) {
		if len(c.values) != b.Len() {
			return false
		}
	}
	return true
}

// appendShapeAnomalies reports bars that cannot be checked row by row: no
// rows, or a column without one value per date.
func appendShapeAnomalies(out []Anomaly, b *frame.Bars) []Anomaly {
	if b.Len() == 0 {
		return append(out, splitAnomaly(SeverityCritical, RuleSchemaMismatch, "", "no rows", 0))
	}
	for _, c := range valueColumns(b) {
		if len(c.values) != b.Len() {
			out = append(out, splitAnomaly(SeverityCritical, RuleSchemaMismatch, c.name,
				fmt.Sprintf("%d values for %d dates", len(c.values), b.Len()), 0))
		}
	}
	return out
}

// appendValueRules checks the values of row r.
func appendValueRules(out []Anomaly, b *frame.Bars, r int) []Anomaly {
	cols := valueColumns(b)
	var missing, nonPositive []string // allocated only for bad rows
	for i, c := range cols {
		v := c.values[r]
		switch {
		case isMissing(v):
			missing = append(missing, c.name)
		case v <= 0 && i < len(cols)-1: // prices, not volume
			nonPositive = append(nonPositive, fmt.Sprintf("%s %g", c.name, v))
		}
	}
	if missing != nil {
		out = append(out, rowAnomaly(b, r, SeverityWarning, RuleMissingValue, strings.Join(missing, ","),
			"missing "+strings.Join(missing, ", "), float64(len(missing))))
	}
	if nonPositive != nil {
		out = append(out, rowAnomaly(b, r, SeverityCritical, RuleNonPositivePrice, "",
			"price must be > 0: "+strings.Join(nonPositive, ", "), 0))
	}
	out = appendHighLowRules(out, b, r)
	switch v := b.Volume[r]; {
	case v < 0:
		out = append(out, rowAnomaly(b, r, SeverityWarning, RuleNegativeVolume, ColumnVolume,
			fmt.Sprintf("volume %g < 0", v), v))
	case v == 0:
		out = append(out, rowAnomaly(b, r, SeverityWarning, RuleZeroVolume, ColumnVolume, "volume is 0", 0))
	}
	return out
}

// appendHighLowRules checks High ≥ max(Open, Close) and Low ≤ min(Open,
// Close) over the values present.
func appendHighLowRules(out []Anomaly, b *frame.Bars, r int) []Anomaly {
	o, h, l, c := b.Open[r], b.High[r], b.Low[r], b.Close[r]
	top, bottom, ok := openCloseRange(o, c)
	if !ok {
		return out
	}
	if !isMissing(h) && h < top {
		out = append(out, rowAnomaly(b, r, SeverityWarning, RuleHighBelowOC, ColumnHigh,
			fmt.Sprintf("high %g < max(open %g, close %g)", h, o, c), h-top))
	}
	if !isMissing(l) && l > bottom {
		out = append(out, rowAnomaly(b, r, SeverityWarning, RuleLowAboveOC, ColumnLow,
			fmt.Sprintf("low %g > min(open %g, close %g)", l, o, c), l-bottom))
	}
	return out
}

// openCloseRange returns max and min of the present values of o and c.
func openCloseRange(o, c float64) (top, bottom float64, ok bool) {
	switch {
	case isMissing(o) && isMissing(c):
		return 0, 0, false
	case isMissing(o):
		return c, c, true
	case isMissing(c):
		return o, o, true
	}
	return max(o, c), min(o, c), true
}

// appendDateOrder checks that row r's date (day) follows the previous
// row's (prev) and reports missing trading days and long gaps between them.
func appendDateOrder(out []Anomaly, b *frame.Bars, r int, prev, day int64, cfg Config) []Anomaly {
	switch {
	case day == prev:
		return append(out, rowAnomaly(b, r, SeverityCritical, RuleDuplicateDate, "",
			"same date as row "+fmt.Sprint(r-1), 0))
	case day < prev:
		return append(out, rowAnomaly(b, r, SeverityCritical, RuleDateNotIncreasing, "",
			"date before the previous row's "+dateOf(prev).Format(dateLayout), 0))
	case day-prev == 1:
		return out
	}
	n, first := missingTradingDays(prev, day)
	from := dateOf(prev).Format(dateLayout)
	switch {
	case n > 0:
		return append(out, rowAnomaly(b, r, SeverityWarning, RuleGap, "",
			fmt.Sprintf("%d NYSE trading day(s) missing after %s (first %s)", n, from, dateOf(first).Format(dateLayout)), float64(n)))
	case day-prev > int64(cfg.GapDays):
		why := "with no NYSE trading day missing (market closed)"
		if !calendarKnown(dateOf(prev + 1).Year()) {
			why = fmt.Sprintf("(NYSE calendar not checked before %d)", calendarStart)
		}
		return append(out, rowAnomaly(b, r, SeverityInfo, RuleGap, "",
			fmt.Sprintf("%d calendar days after %s %s", day-prev, from, why), float64(day-prev)))
	}
	return out
}

// rowAnomaly builds an anomaly of row r.
func rowAnomaly(b *frame.Bars, r int, severity, rule, col, detail string, value float64) Anomaly {
	return Anomaly{Severity: severity, Rule: rule, Date: b.Date[r].Format(dateLayout), Row: r, Column: col, Detail: detail, Value: value}
}

// splitAnomaly builds an anomaly of the whole split.
func splitAnomaly(severity, rule, col, detail string, value float64) Anomaly {
	return Anomaly{Severity: severity, Rule: rule, Row: WholeSplit, Column: col, Detail: detail, Value: value}
}
