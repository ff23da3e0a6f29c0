package report

import (
	"fmt"
	"html/template"
	"io"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
)

// BacktestHTML writes a backtest's report page: the summary per model,
// the intervals, every fold's boundaries and scores, and the charts
// (BacktestCharts). Everything is escaped; the only inline style is the
// one StyleHash hashes.
func BacktestHTML(w io.Writer, r pipeline.BacktestResult, plots []Plot) error {
	data := struct {
		R     pipeline.BacktestResult
		Plots []Plot
	}{r, plots}
	if err := backtestPage.Execute(w, data); err != nil {
		return fmt.Errorf("render backtest report %s: %w", r.BacktestID, err)
	}
	return nil
}

var backtestPage = template.Must(template.New("backtest").Funcs(template.FuncMap{
	"num":           func(v metrics.Maybe, digits int) string { return num(v, digits) },
	"f":             func(v float64, digits int) string { return num(metrics.Maybe(v), digits) },
	"pct":           pct,
	"pctf":          func(v float64) string { return pct(metrics.Maybe(v)) },
	"level":         backtestLevel,
	"spreadText":    spreadText,
	"short":         short,
	"intervalScale": backtestScaleNote,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>FinSight backtest {{.R.BacktestID}}</title>
<style>` + style + `</style></head><body>
<header class="top">
<a class="brand" href="/">FinSight</a>
<a href="/">Overview</a>
<a href="/ui/runs?ticker={{.R.Ticker}}">{{.R.Ticker}} runs</a>
<a href="/ui/models/{{.R.Ticker}}">{{.R.Ticker}} models</a>
</header>
<h1>{{.R.Ticker}} — backtest {{.R.BacktestID}}</h1>
<p>Walk-forward ({{with .R.Spec.Mode}}{{.}}{{else}}expanding{{end}} window): {{len .R.Folds}} folds, each trained on its past and scored on the block of days right after it;
lookback {{.R.Spec.Lookback}}, horizon {{.R.Spec.Horizon}}. Data <code>{{short .R.Raw.SHA256}}</code> ({{.R.Series.Rows}} cleaned rows).
Every model forecasts exactly the same targets. Nothing was registered or promoted.</p>
<h2>Models across folds</h2>
<p>Mean ± sample standard deviation across folds, price units. MASE = MAE ÷ naive's MAE on the same days (below 1 beats naive).
Diebold–Mariano: the model's squared errors against naive's, all folds pooled (negative: the model is better; p: how likely a difference this large is by chance).</p>
<table><tr><th>model</th><th>folds</th><th>RMSE</th><th>MAE</th><th>MASE</th><th>direction</th><th>beat naive</th><th>DM stat</th><th>DM p</th><th>days</th></tr>
{{range .R.Summary}}<tr><td>{{.Model}}</td><td>{{.Folds}}</td><td>{{spreadText .RMSE 4}}</td><td>{{spreadText .MAE 4}}</td><td>{{spreadText .MASE 3}}</td><td>{{pct .DirectionalAccuracy.Mean}}</td><td>{{.BeatNaive}}/{{.Folds}}</td><td>{{num .PooledDMStat 3}}</td><td>{{num .PooledDMPValue 4}}</td><td>{{.PooledN}}</td></tr>
{{end}}</table>
<h2>Prediction intervals (split conformal)</h2>
<p>Each fold calibrates a band per model from that model's own validation residuals and counts how many test days fall inside it: coverage should sit near the level.
{{with intervalScale .R}}{{.}}{{end}} Widths in price units, the mean over the test days.
Width vs naive below 1: narrower (more useful) bands than naive's.</p>
<table><tr><th>model</th><th>level</th><th>mean coverage</th><th>lowest fold</th><th>mean width</th><th>width vs naive</th></tr>
{{range .R.Intervals}}<tr><td>{{.Model}}</td><td>{{level .Level}}</td><td>{{pctf .MeanCoverage}}</td><td>{{pctf .MinCoverage}}</td><td>{{f .MeanWidth 3}}</td><td>{{num .WidthVsNaive 3}}</td></tr>
{{end}}</table>
<h3>Intervals per fold</h3>
<table><tr><th>fold</th><th>model</th><th>level</th><th>coverage</th><th>mean width</th><th>test days</th></tr>
{{range .R.Folds}}{{$k := .Fold.Index}}{{range .Intervals}}{{$m := .Model}}{{range .Results}}<tr><td>{{$k}}</td><td>{{$m}}</td><td>{{level .Level}}</td><td>{{pctf .Coverage}}</td><td>{{f .Width 3}}</td><td>{{.N}}</td></tr>
{{end}}{{end}}{{end}}</table>
<h2>Folds</h2>
<table><tr><th>fold</th><th>training days</th><th>test days</th><th>rows train/val/test</th><th>windows</th><th>epochs</th><th>largest training Open</th></tr>
{{range .R.Folds}}<tr><td>{{.Fold.Index}}</td><td>{{.TrainFirst}} … {{.TrainLast}}</td><td>{{.TestFirst}} … {{.TestLast}}</td><td>{{.Fold.Train.Len}}/{{.Fold.Validation.Len}}/{{.Fold.Test.Len}}</td><td>{{index .Windows 0}}/{{index .Windows 1}}/{{index .Windows 2}}</td><td>{{.Epochs}}</td><td>{{f .TrainMax 2}}</td></tr>
{{end}}</table>
<h3>Scores per fold</h3>
<table><tr><th>model</th><th>fold</th><th>RMSE</th><th>MAE</th><th>MASE</th><th>direction</th><th>DM p</th></tr>
{{range .R.Summary}}{{$m := .Model}}{{range .PerFold}}<tr><td>{{$m}}</td><td>{{.Fold}}</td><td>{{f .Model.RMSE 4}}</td><td>{{f .Model.MAE 4}}</td><td>{{num .MASE 3}}</td><td>{{pct .DirectionalAccuracy}}</td><td>{{num .DMPValue 3}}</td></tr>
{{end}}{{end}}</table>
{{if .Plots}}<h2>Charts</h2>{{end}}
{{range .Plots}}<figure><figcaption>{{.Title}}</figcaption><img src="{{.URL}}" alt="{{.Title}}"></figure>
{{end}}
<h2>Parameters</h2><pre>{{printf "%+v" .R.Spec}}</pre>
</body></html>
`))
