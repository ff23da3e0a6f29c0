package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/finsight/finsight/internal/runs"
)

// param is one flattened parameter: a dotted JSON path and its value.
type param struct{ key, value string }

// compareParams lines up the runs' parameters (their workflow input,
// flattened to dotted JSON paths in the input's own order, after the data
// and code versions): those that differ, and those the same in every run.
// Parameters empty in every run are left out.
func compareParams(recs []runs.Record) (differ, same []uiCompareRow) {
	var order []string
	values := make([]map[string]string, len(recs))
	for i, r := range recs {
		values[i] = map[string]string{}
		for _, p := range runParams(r) {
			if _, seen := values[i][p.key]; !seen && !slices.Contains(order, p.key) {
				order = append(order, p.key)
			}
			values[i][p.key] = p.value
		}
	}
	for _, k := range order {
		row := uiCompareRow{Name: k, Best: -1}
		empty := true
		for i := range recs {
			v := values[i][k]
			row.Values = append(row.Values, v)
			empty = empty && v == ""
			row.Differs = row.Differs || v != row.Values[0]
		}
		switch {
		case empty:
		case row.Differs:
			differ = append(differ, row)
		default:
			same = append(same, row)
		}
	}
	return differ, same
}

// runParams are a run's parameters: its data and code versions, then its
// workflow input flattened.
func runParams(r runs.Record) []param {
	out := []param{{"data version", short12(r.Data.Raw.SHA256)}, {"code version", r.Code}}
	var in any = r.Input
	if r.Retrain != nil {
		in = r.Retrain
	}
	b, err := json.Marshal(in)
	if err != nil {
		return append(out, param{"params", "unreadable: " + err.Error()})
	}
	flat, err := flattenJSON(b)
	if err != nil {
		return append(out, param{"params", "unreadable: " + err.Error()})
	}
	return append(out, flat...)
}

func short12(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// flattenJSON turns a JSON object into dotted paths and values in the
// object's own key order; arrays and scalars are values (compact JSON,
// strings unquoted, null and false and 0 as they are).
func flattenJSON(b []byte) ([]param, error) {
	var out []param
	err := flattenInto("", b, &out)
	return out, err
}

func flattenInto(prefix string, b []byte, out *[]param) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		v := string(b)
		if len(b) > 0 && b[0] == '"' {
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
		}
		*out = append(*out, param{prefix, v})
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		key := fmt.Sprint(tok)
		if prefix != "" {
			key = prefix + "." + key
		}
		if err := flattenInto(key, raw, out); err != nil {
			return err
		}
	}
	return nil
}

// metricRow is how one metric is read from a run and which way is better
// (-1: lower, +1: higher, 0: neither).
type metricRow struct {
	name   string
	value  func(runs.Record, runOutcome) (float64, bool)
	format func(float64) string
	better int
}

func fixed(d int) func(float64) string {
	return func(v float64) string { return strconv.FormatFloat(v, 'f', d, 64) }
}

func fromEfficacy(f func(o runOutcome) float64) func(runs.Record, runOutcome) (float64, bool) {
	return func(_ runs.Record, o runOutcome) (float64, bool) {
		if o.efficacy == nil {
			return 0, false
		}
		v := f(o)
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	}
}

func fromMetrics(f func(o runOutcome) float64) func(runs.Record, runOutcome) (float64, bool) {
	return func(_ runs.Record, o runOutcome) (float64, bool) {
		v := f(o)
		return v, o.ok && o.metrics.N > 0 && !math.IsNaN(v)
	}
}

var compareMetricRows = []metricRow{
	{name: "model version", value: func(_ runs.Record, o runOutcome) (float64, bool) { return float64(o.version), o.version > 0 },
		format: func(v float64) string { return "v" + strconv.Itoa(int(v)) }},
	{name: "test days", value: fromMetrics(func(o runOutcome) float64 { return float64(o.metrics.N) }), format: fixed(0)},
	{name: "test RMSE", value: fromMetrics(func(o runOutcome) float64 { return o.metrics.TestRMSE }), format: fixed(4), better: -1},
	{name: "naive RMSE", value: fromMetrics(func(o runOutcome) float64 { return o.metrics.NaiveRMSE }), format: fixed(4)},
	{name: "RMSE vs naive", value: fromMetrics(func(o runOutcome) float64 {
		return 100 * (o.metrics.TestRMSE - o.metrics.NaiveRMSE) / o.metrics.NaiveRMSE
	}), format: func(v float64) string { return fmt.Sprintf("%+.2f%%", v) }, better: -1},
	{name: "test MAE", value: fromMetrics(func(o runOutcome) float64 { return o.metrics.TestMAE }), format: fixed(4), better: -1},
	{name: "test MAPE %", value: fromMetrics(func(o runOutcome) float64 { return float64(o.metrics.TestMAPE) }), format: fixed(3), better: -1},
	{name: "MASE", value: fromEfficacy(func(o runOutcome) float64 { return float64(o.efficacy.MASE) }), format: fixed(3), better: -1},
	{name: "directional accuracy", value: fromEfficacy(func(o runOutcome) float64 { return 100 * float64(o.efficacy.DirectionalAccuracy) }),
		format: func(v float64) string { return fmt.Sprintf("%.1f%%", v) }, better: +1},
	{name: "Diebold–Mariano statistic", value: fromEfficacy(func(o runOutcome) float64 { return float64(o.efficacy.DMStat) }), format: fixed(3)},
	{name: "DM p-value", value: fromEfficacy(func(o runOutcome) float64 { return float64(o.efficacy.DMPValue) }), format: fixed(4)},
	{name: "best epoch", value: func(_ runs.Record, o runOutcome) (float64, bool) {
		return float64(o.training.BestEpoch), o.ok && o.training.BestEpoch > 0
	}, format: fixed(0)},
	{name: "epochs trained", value: func(_ runs.Record, o runOutcome) (float64, bool) { return float64(len(o.curve)), len(o.curve) > 0 }, format: fixed(0)},
	{name: "duration", value: func(r runs.Record, _ runOutcome) (float64, bool) { _, s := duration(r); return s, s > 0 },
		format: roundSeconds, better: -1},
}

func roundSeconds(v float64) string {
	return (time.Duration(math.Round(v)) * time.Second).String()
}

// compareMetrics is the metrics table: one row per metric, the best value
// marked where one run is strictly best. A row no run has is left out.
func compareMetrics(recs []runs.Record, outs []runOutcome) []uiCompareRow {
	var rows []uiCompareRow
	for _, m := range compareMetricRows {
		row := uiCompareRow{Name: m.name, Best: -1}
		vals := make([]float64, len(recs))
		have := make([]bool, len(recs))
		any := false
		for i := range recs {
			v, ok := m.value(recs[i], outs[i])
			vals[i], have[i] = v, ok
			s := ""
			if ok {
				s, any = m.format(v), true
			}
			row.Values = append(row.Values, s)
		}
		if !any {
			continue
		}
		row.Best = bestIndex(vals, have, m.better)
		if row.Best >= 0 && tiedAsShown(row.Values, row.Best) {
			row.Best = -1
		}
		rows = append(rows, row)
	}
	promoted := uiCompareRow{Name: "promoted", Best: -1}
	for i := range recs {
		s := ""
		if p := recs[i].Promotion; p != nil {
			s = p.Alias
			if p.Forced {
				s += " (forced)"
			}
		} else if outs[i].ok {
			s = outs[i].promotion.Alias
		}
		promoted.Values = append(promoted.Values, s)
	}
	return append(rows, promoted)
}

// tiedAsShown reports whether another run's value reads the same as the
// best one's once formatted: bold on 1.002 beside 1.002 would mislead.
func tiedAsShown(shown []string, best int) bool {
	for i, s := range shown {
		if i != best && s == shown[best] {
			return true
		}
	}
	return false
}

// bestIndex is the index of the strictly best value (-1 when better is 0,
// fewer than two runs have one, or the best is shared).
func bestIndex(vals []float64, have []bool, better int) int {
	best, n := -1, 0
	for i, v := range vals {
		if !have[i] {
			continue
		}
		n++
		if best < 0 || float64(better)*(v-vals[best]) > 0 {
			best = i
		}
	}
	if better == 0 || n < 2 {
		return -1
	}
	for i, v := range vals {
		if have[i] && i != best && v == vals[best] {
			return -1
		}
	}
	return best
}
