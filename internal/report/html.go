package report

import (
	"fmt"
	"html/template"
	"io"
	"math"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/runs"
)

// Plot is one image shown in the report, by URL relative to the page.
type Plot struct {
	Title string
	URL   string
}

// Nav is what the report's navigation header links besides the tracking
// pages (/, /ui/runs, the ticker's runs and models).
type Nav struct {
	WebUI string // the run's workflow in the Temporal Web UI ("": no link)
}

// HTML writes the run's report page: the tracking UI's navigation, summary,
// model vs naive tables overall and by slice, learning curve, search
// trials, anomalies, lineage, and the plots. Everything from r, plots and
// nav is escaped; the only inline style is the one StyleHash hashes.
func HTML(w io.Writer, r runs.Record, plots []Plot, nav Nav) error {
	data := struct {
		R       runs.Record
		Plots   []Plot
		Nav     Nav
		Verdict string
	}{R: r, Plots: plots, Nav: nav}
	if r.Result != nil {
		data.Verdict = Verdict(r.Result.Efficacy.Overall)
	}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("render report of %s: %w", r.ID, err)
	}
	return nil
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": func(v any, digits int) string {
		switch x := v.(type) {
		case metrics.Maybe:
			return num(x, digits)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return "n/a"
			}
			return fmt.Sprintf("%.*f", digits, x)
		}
		return fmt.Sprint(v)
	},
	"pct":         pct,
	"short":       short,
	"pvalue":      pValue,
	"calibration": calibrationSize,
	"scaleWords":  scaleWords,
	"share":       func(v float64) string { return pct(metrics.Maybe(v)) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>FinSight run {{.R.ID}}</title>
<style>` + style + `</style></head><body>
<header class="top">
<a class="brand" href="/">FinSight</a>
<a href="/">Overview</a>
<a href="/ui/runs">Runs</a>
{{- with .R.Ticker}}
<a href="/ui/runs?ticker={{.}}">{{.}} runs</a>
<a href="/ui/models/{{.}}">{{.}} models</a>
{{- end}}
{{- with .Nav.WebUI}}
<a class="ext" href="{{.}}" rel="noopener">Temporal Web UI ↗</a>
{{- end}}
</header>
<h1>{{.R.Ticker}} — run {{.R.ID}}</h1>
<p>Status <b>{{.R.Status}}</b> (stage {{.R.Stage}}), started {{.R.StartedAt.Format "2006-01-02 15:04:05 UTC"}}{{with .R.Code}}, code <code>{{.}}</code>{{end}}.</p>
{{with .R.Error}}<p class="bad">Error: {{.}}</p>{{end}}
{{with .R.Result}}{{$e := .Efficacy.Overall}}
<h2>Model v{{.ModelVersion}} vs the naive forecast</h2>
<p>Test {{.Metrics.FirstDate}} … {{.Metrics.LastDate}}, {{.Metrics.N}} days, price units. Naive = tomorrow's Open is today's Open, on exactly the same targets.</p>
<p><b>Verdict: the model {{$.Verdict}}.</b></p>
<table><tr><th></th><th>RMSE</th><th>MAE</th><th>MAPE %</th></tr>
<tr><td>model</td><td>{{num $e.Model.RMSE 4}}</td><td>{{num $e.Model.MAE 4}}</td><td>{{num $e.Model.MAPE 3}}</td></tr>
<tr><td>naive</td><td>{{num $e.Naive.RMSE 4}}</td><td>{{num $e.Naive.MAE 4}}</td><td>{{num $e.Naive.MAPE 3}}</td></tr></table>
<table><tr><th>MASE (model MAE ÷ naive MAE)</th><th>directional accuracy</th><th>Diebold–Mariano statistic</th><th>p-value</th></tr>
<tr><td>{{num $e.MASE 3}}</td><td>{{pct $e.DirectionalAccuracy}}</td><td>{{num $e.DMStat 3}}</td><td>{{num $e.DMPValue 4}}</td></tr></table>
<h3>By calendar year and by volatility regime</h3>
<table><tr><th>slice</th><th>days</th><th>model RMSE</th><th>naive RMSE</th><th>MASE</th><th>direction</th><th>DM p</th></tr>
{{range .Efficacy.ByYear}}<tr><td>{{.Name}}</td><td>{{.Model.N}}</td><td>{{num .Model.RMSE 4}}</td><td>{{num .Naive.RMSE 4}}</td><td>{{num .MASE 3}}</td><td>{{pct .DirectionalAccuracy}}</td><td>{{num .DMPValue 3}}</td></tr>
{{end}}{{range .Efficacy.ByVolatility}}<tr><td>{{.Name}}</td><td>{{.Model.N}}</td><td>{{num .Model.RMSE 4}}</td><td>{{num .Naive.RMSE 4}}</td><td>{{num .MASE 3}}</td><td>{{pct .DirectionalAccuracy}}</td><td>{{num .DMPValue 3}}</td></tr>
{{end}}</table>
{{with .Metrics.Intervals}}
<h3>Prediction intervals</h3>
<p>Split-conformal, calibrated on {{calibration .}} validation residuals, which neither the model nor naive was fitted on (naive's from its own): each interval is the forecast ± the half-width that held the level's share of those errors, the half-width in {{scaleWords .}}. Coverage is the share of test days whose actual Open fell inside; it is close to the level when the test period's errors are like the validation period's. Widths are means over the test days, in price units.</p>
<table><tr><th>intervals</th><th>level</th><th>model coverage</th><th>naive coverage</th><th>model width</th><th>naive width</th><th>test days</th></tr>
{{range .Test}}<tr><td>served</td><td>{{share .Level}}</td><td>{{share .ModelCoverage}}</td><td>{{share .NaiveCoverage}}</td><td>{{num .ModelWidth 4}}</td><td>{{num .NaiveWidth 4}}</td><td>{{.N}}</td></tr>
{{end}}{{range .AbsoluteTest}}<tr><td>price units, for comparison</td><td>{{share .Level}}</td><td>{{share .ModelCoverage}}</td><td>{{share .NaiveCoverage}}</td><td>{{num .ModelWidth 4}}</td><td>{{num .NaiveWidth 4}}</td><td>{{.N}}</td></tr>
{{end}}</table>
{{range .Notes}}<p>Note: {{.}}</p>{{end}}
{{end}}
{{end}}
{{with .R.RetrainResult}}
<h2>Retraining{{if .Base.Version}} of v{{.Base.Version}}{{end}}</h2>
{{if .Base.Version}}<p>Base model: v{{.Base.Version}}, the {{.Base.Why}}. Mode: <b>{{.Mode}}</b> — {{.ModeReason}}.</p>{{end}}
<table><tr><th>new file</th><th>rows</th><th>days</th><th>new days</th><th>outcome</th></tr>
{{range .Files}}<tr><td>{{.Name}}</td><td>{{.Rows}}</td><td>{{.First}} … {{.Last}}</td><td>{{.NewRows}}</td><td>{{if .Rejected}}<span class="bad">rejected: {{.Reason}}</span>{{else}}merged{{end}}</td></tr>
{{end}}</table>
{{if .Parents}}<p>Merged raw version <code>{{short .Raw.SHA256}}</code> ({{.Raw.Rows}} rows) from {{range $i, $p := .Parents}}{{if $i}} + {{end}}<code>{{short $p.SHA256}}</code>{{end}}.</p>{{end}}
{{with .Comparison}}{{if .Days}}<h3>New model, base model and naive on the same {{.Days}} new test days ({{.First}} … {{.Last}})</h3>
<table><tr><th>model</th><th>RMSE</th><th>MAE</th></tr>
{{range .Scores}}<tr><td>{{.Name}}</td><td>{{num .RMSE 4}}</td><td>{{num .MAE 4}}</td></tr>
{{end}}</table>{{end}}{{end}}
{{end}}
{{with .R.Promotion}}<h2>Registry</h2><p>v{{.Version}} is <b>{{.Alias}}</b>{{if .Forced}} (forced){{end}}: {{.Reason}}</p>
{{if eq .Gate "backtest"}}<p>Promotion gate: backtest. Against naive the model was judged on a walk-forward backtest of the same settings ({{.Folds}} folds), not on the test split: pooled Diebold–Mariano statistic {{num .DMStat 2}} (below 0: the model's squared errors are smaller), p = {{pvalue .DMPValue}}, promoted only if p &lt; α {{.Alpha}}.</p>{{end}}{{end}}
{{if .Plots}}<h2>Charts</h2>{{end}}
{{range .Plots}}<figure><figcaption>{{.Title}}</figcaption><img src="{{.URL}}" alt="{{.Title}}"></figure>
{{end}}
{{with .R.Result}}
<h2>Training</h2>
<p>{{with .Training}}Attempt {{.Attempt}}{{if .ResumedFrom}}, resumed from the epoch-{{.ResumedFrom}} checkpoint{{end}}; best epoch {{.BestEpoch}}{{if .StoppedEarly}}, stopped early{{end}}.{{end}}</p>
<table><tr><th>epoch</th><th>train loss</th><th>validation loss</th></tr>
{{range .Curve}}<tr><td>{{.Epoch}}</td><td>{{num .TrainLoss 6}}</td><td>{{num .ValLoss 6}}</td></tr>{{end}}</table>
{{if .Tuning}}<h2>Hyperparameter search (best trial #{{.BestTrial}})</h2>
<table><tr><th>trial</th><th>layers</th><th>units</th><th>dropout</th><th>lr</th><th>batch</th><th>epochs</th><th>best val loss</th><th>pruned</th></tr>
{{range .Tuning}}<tr><td>{{.ID}}</td><td>{{.Params.Layers}}</td><td>{{.Params.Units}}</td><td>{{num .Params.Dropout 2}}</td><td>{{printf "%.2g" .Params.LearningRate}}</td><td>{{.Params.BatchSize}}</td><td>{{.Epochs}}</td><td>{{num .Best 6}}</td><td>{{if .Pruned}}yes{{end}}{{with .Error}} error: {{.}}{{end}}</td></tr>{{end}}</table>{{end}}
{{end}}
<h2>Steps</h2><table><tr><th>step</th><th>wall ms</th><th>peak RSS MB</th><th>attempts</th></tr>
{{range .R.Steps}}<tr><td>{{.Name}}</td><td>{{.WallMS}}</td><td>{{num .PeakRSSMB 1}}</td><td>{{.Attempts}}</td></tr>{{end}}</table>
{{if .R.Anomalies}}<h2>Data anomalies</h2>{{with .R.AnomalyCounts}}<p>{{index . "critical"}} critical, {{index . "warning"}} warning, {{index . "info"}} info; the first {{len $.R.Anomalies}} below{{with index $.R.Artifacts "anomalies.json"}}, every one in <a href="{{.}}">anomalies.json</a>{{end}}.</p>{{end}}<table><tr><th>split</th><th>severity</th><th>rule</th><th>date</th><th>detail</th></tr>
{{range .R.Anomalies}}<tr><td>{{.Split}}</td><td>{{.Severity}}</td><td>{{.Rule}}</td><td>{{.Date}}</td><td>{{.Detail}}</td></tr>{{end}}</table>{{end}}
<h2>Lineage</h2><table><tr><th>what</th><th>key</th><th>sha256</th><th>rows</th></tr>
<tr><td>upload</td><td>{{.R.Data.CSV}}</td><td></td><td></td></tr>
<tr><td>raw</td><td>{{.R.Data.Raw.Key}}</td><td>{{short .R.Data.Raw.SHA256}}</td><td>{{.R.Data.Raw.Rows}}</td></tr>
{{range .R.Data.Cleaned}}<tr><td>cleaned split</td><td>{{.Key}}</td><td>{{short .SHA256}}</td><td>{{.Rows}}</td></tr>{{end}}
{{range .R.Data.Windows}}<tr><td>windows</td><td>{{.Key}}</td><td>{{short .SHA256}}</td><td>{{.Rows}}</td></tr>{{end}}
</table>
<h2>Parameters</h2><pre>{{printf "%+v" .R.Input}}</pre>
</body></html>
`))
