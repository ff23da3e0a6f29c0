package validate

import (
	"fmt"

	"github.com/finsight/finsight/internal/frame"
)

// Detect checks a split (eval, test or new data, or the training split
// itself) against the training schema and statistics: the row rules of
// CheckRules, schema mismatches, values outside the training range (info:
// prices trend), outlier returns, and drift and shifts of the return
// distributions of Close and Open. Anomalies are sorted by row, then rule.
func Detect(split *frame.Bars, schema Schema, train Stats, cfg Config) []Anomaly {
	cfg = cfg.withDefaults()
	out := appendRules(nil, split, cfg)
	if !wellShaped(split) {
		sortAnomalies(out)
		return out
	}
	out = appendSchemaAnomalies(out, split, schema)
	buf := make([]float64, 0, split.Len())
	for _, c := range returnColumns(split) {
		ts, ok := train.Column(c.name)
		if !ok {
			continue
		}
		out = appendOutliers(out, split, c, ts, cfg)
		buf = sortedInPlace(appendLogReturns(buf[:0], c.values))
		out = appendDrift(out, c.name, buf, ts, cfg)
	}
	sortAnomalies(out)
	return out
}

// appendSchemaAnomalies checks b against the training schema: unknown
// columns or types and columns with no value where training had values are
// critical; values outside the training range are info.
func appendSchemaAnomalies(out []Anomaly, b *frame.Bars, schema Schema) []Anomaly {
	if len(schema.Columns) == 0 {
		return append(out, splitAnomaly(SeverityCritical, RuleSchemaMismatch, "", "training schema has no columns", 0))
	}
	cols := valueColumns(b)
	for _, cs := range schema.Columns {
		if want := expectedType(cs.Name); want == "" || cs.Type != want {
			out = append(out, splitAnomaly(SeverityCritical, RuleSchemaMismatch, cs.Name,
				fmt.Sprintf("training column %q of type %q is not a bars column of that type", cs.Name, cs.Type), 0))
			continue
		}
		for _, c := range cols {
			if c.name == cs.Name {
				out = appendColumnSchemaAnomalies(out, c, cs)
			}
		}
	}
	return out
}

// appendColumnSchemaAnomalies checks one float column against its schema.
func appendColumnSchemaAnomalies(out []Anomaly, c column, cs ColumnSchema) []Anomaly {
	present, below, above := 0, 0, 0
	lo, hi := 0.0, 0.0
	for _, v := range c.values {
		if isMissing(v) {
			continue
		}
		if present == 0 {
			lo, hi = v, v
		}
		present++
		lo, hi = min(lo, v), max(hi, v)
		if v < cs.Min {
			below++
		} else if v > cs.Max {
			above++
		}
	}
	switch {
	case present == 0 && cs.Present > 0:
		return append(out, splitAnomaly(SeverityCritical, RuleSchemaMismatch, c.name,
			fmt.Sprintf("no value in %d rows; training had %d", len(c.values), cs.Present), 0))
	case cs.Present > 0 && below+above > 0:
		return append(out, splitAnomaly(SeverityInfo, RuleOutOfRange, c.name,
			fmt.Sprintf("%d of %d values outside the training range [%g, %g] (%d below, %d above; split range [%g, %g])",
				below+above, present, cs.Min, cs.Max, below, above, lo, hi), float64(below+above)))
	}
	return out
}
