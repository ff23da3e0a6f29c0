package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"image/png"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/runs"
)

func webUI(id string) string { return "http://temporal.test:8233/namespaces/default/workflows/" + id }

// The overview lists every ticker with a model or a run: its champion
// against naive, and its last run linked to its report and the Web UI.
func TestUIOverview(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.Registry{Store: store}
	registerScored(t, store, "NFLX", "train-NFLX-1", 1, 10.80, 10.86)
	if _, err := reg.SetAlias(ctx, "NFLX", registry.Champion, 1, "beats naive", false, "train-NFLX-1"); err != nil {
		t.Fatal(err)
	}
	registerScored(t, store, "AAPL", "train-AAPL-1", 2, 3.3, 3.0) // no champion: worse than naive
	t0 := time.Now().Add(-3 * time.Hour)
	end := t0.Add(time.Minute)
	for _, r := range []runs.Record{
		{ID: "train-NFLX-1", Ticker: "NFLX", Status: runs.StatusCompleted, StartedAt: t0, FinishedAt: &end},
		{ID: "train-NFLX-2", Ticker: "NFLX", Status: runs.StatusRunning, StartedAt: t0.Add(time.Hour)},
		{ID: "train-IBM-1", Ticker: "IBM", Status: runs.StatusFailed, StartedAt: t0, FinishedAt: &end, Error: "<b>bad</b> file"},
	} {
		if err := runs.Write(ctx, store, r); err != nil {
			t.Fatal(err)
		}
	}
	h := newServerOn(t, store, api.WithRunsIndexRefresh(0), api.WithWebUI(webUI))
	rec := uiGet(t, h, "/")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Security-Policy") == "" {
		t.Fatalf("GET /: %d, CSP %q\n%s", rec.Code, rec.Header().Get("Content-Security-Policy"), body)
	}
	rows := regexp.MustCompile(`(?s)<tr>\s*<td><a href="/ui/models/([A-Z]+)">.*?</tr>`).FindAllStringSubmatch(body, -1)
	var tickers []string
	byTicker := map[string]string{}
	for _, m := range rows {
		tickers = append(tickers, m[1])
		byTicker[m[1]] = m[0]
	}
	if strings.Join(tickers, ",") != "AAPL,IBM,NFLX" {
		t.Fatalf("tickers %v, want AAPL, IBM, NFLX\n%s", tickers, body)
	}
	for ticker, want := range map[string][]string{
		"NFLX": {"v1", "10.8", "10.86", "-0.55%", `class="num better"`, "train-NFLX-2", "running", "2 h ago", webUI("train-NFLX-2")},
		"AAPL": {">none<", ">1<"},
		"IBM":  {"no model", "train-IBM-1", "failed"},
	} {
		for _, w := range want {
			if !strings.Contains(byTicker[ticker], w) {
				t.Errorf("%s row has no %q:\n%s", ticker, w, byTicker[ticker])
			}
		}
	}
	if !strings.Contains(body, "3 tickers; 1 with a champion, 1 of them better than naive on their test days; 1 running now.") {
		t.Errorf("summary line missing:\n%s", body)
	}
	if !strings.Contains(body, `href="http://temporal.test:8233/namespaces/default/workflows"`) {
		t.Errorf("no Web UI link in the navigation:\n%s", body)
	}
	if strings.Contains(body, "<b>bad</b>") {
		t.Errorf("markup from data reached the page")
	}
}

// twoRuns stores two finished NFLX runs with different units, learning
// curves of different lengths and test predictions that overlap on all
// but their first days.
func twoRuns(t *testing.T, store blob.Store) {
	t.Helper()
	ctx := context.Background()
	day0 := time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC)
	for i, units := range []int{32, 64} {
		id := []string{"train-NFLX-a", "train-NFLX-b"}[i]
		n, skip := 120, 3*i // run b starts three days later
		p := &frame.Predictions{}
		for d := skip; d < n; d++ {
			actual := 500 + 10*math.Sin(float64(d)/7)
			naive := 500 + 10*math.Sin(float64(d-1)/7)
			p.Date = append(p.Date, day0.AddDate(0, 0, d))
			p.Actual, p.Naive = append(p.Actual, actual), append(p.Naive, naive)
			p.Predicted = append(p.Predicted, actual+float64(i+1)*0.5*math.Cos(float64(d)))
		}
		var buf bytes.Buffer
		if err := frame.WritePredictions(&buf, p, memory.DefaultAllocator); err != nil {
			t.Fatal(err)
		}
		if err := blob.PutBytes(ctx, store, runs.PredictionsKey(id), buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		c, err := metrics.Compare(p.Actual, p.Predicted, p.Naive)
		if err != nil {
			t.Fatal(err)
		}
		res := &pipeline.TrainingResult{ModelVersion: i + 1, Efficacy: metrics.Efficacy{Overall: c},
			Metrics: metrics.TestSummary{TestRMSE: c.Model.RMSE, NaiveRMSE: c.Naive.RMSE, TestMAE: c.Model.MAE, NaiveMAE: c.Naive.MAE, N: c.Model.N}}
		for e := 1; e <= 5+5*i; e++ {
			res.Curve = append(res.Curve, pipeline.EpochLoss{Epoch: e, TrainLoss: 1 / float64(e), ValLoss: 1.2 / float64(e)})
		}
		start := day0.AddDate(1, 0, i)
		end := start.Add(time.Duration(90+30*i) * time.Second)
		rec := runs.Record{ID: id, Workflow: pipeline.TrainingWorkflow, Ticker: "NFLX", Status: runs.StatusCompleted,
			StartedAt: start, FinishedAt: &end, Result: res, Data: runs.Data{Raw: blob.Ref{SHA256: "0123456789abcdef0123"}},
			Input: pipeline.TrainingInput{Ticker: "NFLX", Lookback: 60, Model: pipeline.ModelParams{Units: units, Layers: 2, Epochs: 10}}}
		if err := runs.Write(ctx, store, rec); err != nil {
			t.Fatal(err)
		}
	}
}

var dataPNG = regexp.MustCompile(`<img class="chart" src="data:image/png;base64,([^"]+)"`)

// withoutImages is a page without its inline images' data, for messages.
func withoutImages(body string) string {
	return dataPNG.ReplaceAllString(body, `<img class="chart" src="data:…"`)
}

// decodeCharts decodes the page's inline charts, failing on one that is
// not a PNG of a useful size.
func decodeCharts(t *testing.T, body string) int {
	t.Helper()
	ms := dataPNG.FindAllStringSubmatch(body, -1)
	for _, m := range ms {
		b, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() < 300 || img.Bounds().Dy() < 200 || len(b) < 5000 {
			t.Errorf("chart: %v, %v, %d bytes", err, img.Bounds(), len(b))
		}
	}
	return len(ms)
}

// Two runs side by side: the differing parameter highlighted, the best
// metric marked, both scored on their common days, four charts.
func TestUICompare(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	twoRuns(t, store)
	h := newServerOn(t, store, api.WithWebUI(webUI))
	rec := uiGet(t, h, "/ui/compare?runs=train-NFLX-a,train-NFLX-b")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /ui/compare: %d\n%s", rec.Code, body)
	}
	differs := regexp.MustCompile(`<tr class="differs"><td><code>([^<]+)</code></td><td>([^<]*)</td><td>([^<]*)</td></tr>`).FindAllStringSubmatch(body, -1)
	if len(differs) != 1 || differs[0][1] != "model.units" || differs[0][2] != "32" || differs[0][3] != "64" {
		t.Errorf("differing parameters %v, want model.units 32 vs 64", differs)
	}
	if !regexp.MustCompile(`<tr><td><code>lookback</code></td><td>60</td></tr>`).MatchString(body) {
		t.Errorf("the equal parameter lookback is missing or highlighted")
	}
	// Run a's predictions are closer (errors of 0.5 vs 1.0): its RMSE is best.
	if !regexp.MustCompile(`<tr><td>test RMSE</td><td class="num best">[0-9.]+</td><td class="num">[0-9.]+</td></tr>`).MatchString(body) {
		t.Errorf("run A's test RMSE is not marked best:\n%s", withoutImages(body))
	}
	if !strings.Contains(body, "On the 117 common test days (2021-01-07 … 2021-05-03)") {
		t.Errorf("common days wrong:\n%s", withoutImages(body))
	}
	if n := decodeCharts(t, body); n != 4 {
		t.Errorf("%d charts, want 4 (validation, training, last 60 days, cumulative)", n)
	}
	if !strings.Contains(body, webUI("train-NFLX-b")) {
		t.Errorf("no Web UI link of run b")
	}
	// The runs page's checkboxes send the parameter repeated.
	if rec := uiGet(t, h, "/ui/compare?runs=train-NFLX-b&runs=train-NFLX-a"); rec.Code != http.StatusOK ||
		strings.Index(rec.Body.String(), "/runs/train-NFLX-b/report") > strings.Index(rec.Body.String(), "/runs/train-NFLX-a/report") {
		t.Errorf("repeated runs=: %d, or the order not kept", rec.Code)
	}
	for target, code := range map[string]int{
		"/ui/compare?runs=train-NFLX-a":              http.StatusBadRequest,
		"/ui/compare?runs=train-NFLX-a,train-NFLX-a": http.StatusBadRequest,
		"/ui/compare": http.StatusBadRequest,
		"/ui/compare?runs=train-NFLX-a,..%2Fsecret": http.StatusBadRequest,
		"/ui/compare?runs=train-NFLX-a,a%5Cb":       http.StatusBadRequest,
		"/ui/compare?runs=train-NFLX-a,nope,nope2":  http.StatusNotFound,
		"/ui/compare?runs=a,b,c,d,e,f,g,h,i":        http.StatusBadRequest,
	} {
		if rec := uiGet(t, h, target); rec.Code != code || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("GET %s: %d %s, want %d with a JSON reason", target, rec.Code, rec.Body.String(), code)
		}
	}
	if rec := uiGet(t, h, "/ui/compare?runs=train-NFLX-a,nope,nope2"); !strings.Contains(rec.Body.String(), "nope, nope2") {
		t.Errorf("the 404 does not name the missing runs: %s", rec.Body.String())
	}
}

// A failed run beside a finished one: no predictions to line up, said
// so; its error shown as text.
func TestUICompareWithAFailedRun(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	twoRuns(t, store)
	now := time.Now()
	if err := runs.Write(ctx, store, runs.Record{ID: "train-NFLX-x", Ticker: "NFLX", Status: runs.StatusFailed, StartedAt: now, FinishedAt: &now,
		Error: `line 3, column "Open": "<script>alert(1)</script>": want a number`}); err != nil {
		t.Fatal(err)
	}
	body := uiGet(t, newServerOn(t, store), "/ui/compare?runs=train-NFLX-x,train-NFLX-a").Body.String()
	if !strings.Contains(body, "A: run train-NFLX-x has no test predictions (status failed)") {
		t.Errorf("no note about the failed run's predictions:\n%s", withoutImages(body))
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the error is not shown as text:\n%s", withoutImages(body))
	}
	if n := decodeCharts(t, body); n != 2 {
		t.Errorf("%d charts, want the two learning curves", n)
	}
}
