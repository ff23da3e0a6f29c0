// Package validate checks daily price bars before they reach a model: it
// infers a schema from the training split, describes every split with
// statistics, checks the rules that always hold for daily bars and detects
// anomalies of a split (bad ticks, schema mismatches, distribution drift of
// returns) against the training schema and statistics.
//
// Everything here is a pure function of its inputs: no I/O, no global state.
package validate

import (
	"cmp"
	"slices"
)

// Severities of an anomaly. Critical means the run must stop.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Rule names, stable across versions: they are persisted in reports.
const (
	RuleMissingValue      = "missing_value"
	RuleSchemaMismatch    = "schema_mismatch"
	RuleOutOfRange        = "out_of_range"
	RuleHighBelowOC       = "high_below_open_close"
	RuleLowAboveOC        = "low_above_open_close"
	RuleNonPositivePrice  = "non_positive_price"
	RuleNegativeVolume    = "negative_volume"
	RuleZeroVolume        = "zero_volume"
	RuleDuplicateDate     = "duplicate_date"
	RuleDateNotIncreasing = "date_not_increasing"
	RuleWeekendDate       = "weekend_date"
	RuleGap               = "gap"
	RuleOutlierReturn     = "outlier_return"
	RuleDriftJS           = "drift_js"
	RuleDriftKS           = "drift_ks"
	RuleMeanShift         = "mean_shift"
	RuleStdShift          = "std_shift"
)

// WholeSplit is the Row of an anomaly about the split as a whole (its Date
// is then "").
const WholeSplit = -1

// Anomaly is one finding. Row is the 0-based row of the bars (WholeSplit
// for split-level findings), Date that row's date as YYYY-MM-DD ("" for
// the whole split). Column names the column(s) involved, comma-separated:
// a price column for row findings (outlier_return: the price whose return
// jumps), a return column (ret_close, ret_open) for drift and shifts, ""
// for date rules. Value is the measured quantity where there is one: the
// number of missing columns, how far high/low lies on the wrong side, the
// robust z-score, the JS divergence, the KS
// p-value, the mean shift in standard errors, the std ratio, the number of
// missing trading days or calendar days of a gap, the number of values out
// of range; else 0.
type Anomaly struct {
	Severity string  `json:"severity"`
	Rule     string  `json:"rule"`
	Date     string  `json:"date"`
	Row      int     `json:"row"`
	Column   string  `json:"column"`
	Detail   string  `json:"detail"`
	Value    float64 `json:"value,omitempty"`
}

// Critical returns the anomalies that must stop a run, in their order.
func Critical(as []Anomaly) []Anomaly {
	var out []Anomaly
	for _, a := range as {
		if a.Severity == SeverityCritical {
			out = append(out, a)
		}
	}
	return out
}

// sortAnomalies orders anomalies by row, then rule, then column and detail,
// so equal inputs give byte-identical reports.
func sortAnomalies(as []Anomaly) {
	slices.SortFunc(as, func(a, b Anomaly) int {
		return cmp.Or(
			cmp.Compare(a.Row, b.Row),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Detail, b.Detail),
		)
	})
}
