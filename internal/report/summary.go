// Package report renders a run's record as the efficacy report: a text
// summary (starter run ID, make demo) and an HTML page (GET /runs/{id}/report).
package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
)

// Summary writes the run's report as plain text.
func Summary(w io.Writer, r runs.Record) error {
	p := &printer{w: w}
	p.f("run %s  %s  %s  (%s)\n", r.ID, r.Ticker, r.Status, r.Stage)
	if r.Error != "" {
		p.f("  error: %s\n", r.Error)
	}
	p.f("  data: %s  raw %s (%d rows)\n", r.Data.CSV, short(r.Data.Raw.SHA256), r.Data.Raw.Rows)
	if r.Code != "" {
		p.f("  code: %s\n", r.Code)
	}
	if len(r.Anomalies) > 0 {
		counts := r.AnomalyCounts
		if counts == nil { // records from before the counts were kept
			counts = map[string]int{}
			for _, a := range r.Anomalies {
				counts[a.Severity]++
			}
		}
		p.f("  anomalies: %d critical, %d warning, %d info\n", counts["critical"], counts["warning"], counts["info"])
	}
	if res := r.Result; res != nil {
		e := res.Efficacy.Overall
		p.f("  model v%d, test %s..%s (%d days), price units:\n", res.ModelVersion, res.Metrics.FirstDate, res.Metrics.LastDate, res.Metrics.N)
		p.f("    %-8s %10s %10s %8s\n", "", "RMSE", "MAE", "MAPE%")
		p.f("    %-8s %10.4f %10.4f %8s\n", "model", e.Model.RMSE, e.Model.MAE, num(e.Model.MAPE, 3))
		p.f("    %-8s %10.4f %10.4f %8s\n", "naive", e.Naive.RMSE, e.Naive.MAE, num(e.Naive.MAPE, 3))
		p.f("    MASE %s, directional accuracy %s, Diebold–Mariano %s (p = %s)\n",
			num(e.MASE, 3), pct(e.DirectionalAccuracy), num(e.DMStat, 2), num(e.DMPValue, 3))
		p.f("    verdict: %s\n", Verdict(e))
		for _, s := range append(append([]metrics.Slice{}, res.Efficacy.ByYear...), res.Efficacy.ByVolatility...) {
			p.f("    %-16s n=%-4d RMSE %9.4f vs naive %9.4f  MASE %s\n", s.Name, s.Model.N, s.Model.RMSE, s.Naive.RMSE, num(s.MASE, 3))
		}
		intervalSummary(p, res.Metrics.Intervals)
	}
	if res := r.RetrainResult; res != nil {
		retrainSummary(p, *res)
	}
	if pr := r.Promotion; pr != nil {
		p.f("  registry: v%d is %s — %s\n", pr.Version, pr.Alias, pr.Reason)
		if pr.Gate == pipeline.GateBacktest {
			p.f("  gate: backtest over %d folds, pooled DM %s, p = %s (α %g)\n", pr.Folds, num(pr.DMStat, 2), pValue(pr.DMPValue), pr.Alpha)
		}
	}
	if u, ok := r.Artifacts["report"]; ok {
		p.f("  report: %s\n", u)
	}
	return p.err
}

// retrainSummary writes what a retrain started from, what it took in and
// how the new model, the base and naive compare on the same new days.
func retrainSummary(p *printer, r pipeline.RetrainingResult) {
	if r.Base.Version > 0 {
		p.f("  retrain of v%d (%s)\n", r.Base.Version, r.Base.Why)
	}
	if r.Mode != "" {
		p.f("  mode: %s — %s\n", r.Mode, r.ModeReason)
	}
	for _, f := range r.Files {
		if f.Rejected {
			p.f("  file %s: REJECTED — %s%s\n", f.Name, f.Reason, movedTo(f.Moved))
			continue
		}
		p.f("  file %s: %d rows %s..%s, %d new days (raw %s)\n", f.Name, f.Rows, f.First, f.Last, f.NewRows, short(f.Raw.SHA256))
	}
	if len(r.Parents) > 0 {
		var names []string
		for _, d := range r.Parents {
			names = append(names, short(d.SHA256))
		}
		p.f("  merged raw %s (%d rows) from %s\n", short(r.Raw.SHA256), r.Raw.Rows, strings.Join(names, " + "))
	}
	if c := r.Comparison; c.Days > 0 {
		p.f("  on the same %d new test days %s..%s, price units:\n", c.Days, c.First, c.Last)
		p.f("    %-14s %10s %10s\n", "", "RMSE", "MAE")
		for _, s := range c.Scores {
			p.f("    %-14s %10.4f %10.4f\n", s.Name, s.RMSE, s.MAE)
		}
	}
}

func movedTo(key string) string {
	if key == "" {
		return ""
	}
	return " (moved to " + key + ")"
}

// Verdict says in words how the model compares with naive.
func Verdict(c metrics.Comparison) string {
	better := c.Model.RMSE < c.Naive.RMSE
	sig := !math.IsNaN(float64(c.DMPValue)) && float64(c.DMPValue) < 0.05
	switch {
	case better && sig:
		return "beats the naive forecast, significantly (DM p < 0.05)"
	case better:
		return "beats the naive forecast on RMSE, but not significantly (DM p ≥ 0.05)"
	case sig:
		return "is significantly WORSE than the naive forecast"
	default:
		return "does not beat the naive forecast (no significant difference)"
	}
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func num(v metrics.Maybe, digits int) string {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", digits, float64(v))
}

// pValue writes p in two significant digits: a tiny p stays readable
// (1.2e-05, not 0.000).
func pValue(v metrics.Maybe) string {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2g", float64(v))
}

func pct(v metrics.Maybe) string {
	if math.IsNaN(float64(v)) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(v))
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return strings.TrimSpace(h)
}
