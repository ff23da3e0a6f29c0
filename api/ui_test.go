package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
)

func uiGet(t testing.TB, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

var uiRunLink = regexp.MustCompile(`<a href="/runs/([^"]+)/report">`)

// uiIDs are the run ids a page lists, in order.
func uiIDs(body string) []string {
	var out []string
	for _, m := range uiRunLink.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// genRun is a plausible run record: training or retraining, finished or
// not, with metrics when completed.
func genRun(i int, rng *rand.Rand, t0 time.Time) runs.Record {
	tickers := []string{"NFLX", "AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META"}
	tk := tickers[i%len(tickers)]
	start := t0.Add(time.Duration(i) * 17 * time.Minute)
	sha := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	r := runs.Record{ID: fmt.Sprintf("train-%s-%08x-%08x", tk, rng.Uint32(), i), Workflow: pipeline.TrainingWorkflow, Ticker: tk,
		StartedAt: start, Stage: "register", Data: runs.Data{Raw: blob.Ref{Key: "raw/" + tk + "/" + sha + ".arrow", SHA256: sha}}}
	units := []int{32, 64, 128}[rng.IntN(3)]
	r.Input = pipeline.TrainingInput{Ticker: tk, Lookback: []int{30, 60, 90}[rng.IntN(3)], Horizon: 1,
		Model: pipeline.ModelParams{Layers: 1 + rng.IntN(3), Units: units, Epochs: 5 + rng.IntN(30), LearningRate: []float64{1e-3, 5e-4, 1e-4}[rng.IntN(3)]},
		Tune:  pipeline.TuneSpec{Trials: []int{0, 0, 8, 20}[rng.IntN(4)]}}
	switch p := rng.Float64(); {
	case p < 0.05:
		r.Status = runs.StatusRunning
		r.Stage = "train"
		return r
	case p < 0.15:
		r.Status = runs.StatusFailed
		r.Error = "activity Train: loss diverged to NaN at epoch " + fmt.Sprint(rng.IntN(20))
	case p < 0.18:
		r.Status = runs.StatusCancelled
	default:
		r.Status = runs.StatusCompleted
	}
	end := start.Add(time.Duration(30+rng.IntN(1800)) * time.Second)
	r.FinishedAt = &end
	if r.Status != runs.StatusCompleted {
		return r
	}
	naive := 5 + rng.Float64()*20
	rmse := naive * (0.85 + rng.Float64()*0.3)
	promoted := rmse < naive*1.05 && rng.IntN(2) == 0
	if i%5 == 4 {
		r.ID = strings.Replace(r.ID, "train-", "retrain-", 1)
		r.Workflow = pipeline.RetrainingWorkflow
		r.Input = pipeline.TrainingInput{}
		r.Retrain = &pipeline.RetrainingInput{Ticker: tk, Options: pipeline.RetrainOptions{Mode: "finetune", Epochs: 5}}
		r.RetrainResult = &pipeline.RetrainingResult{Ticker: tk, ModelVersion: 1 + i/40, Mode: "finetune",
			Base:      pipeline.BaseModel{Params: pipeline.ModelParams{Layers: 2, Units: units, LearningRate: 1e-4}, Lookback: 60},
			Metrics:   metrics.TestSummary{TestRMSE: rmse, NaiveRMSE: naive, TestMAE: rmse * 0.8, NaiveMAE: naive * 0.8},
			Promotion: pipeline.Promotion{Promoted: promoted}}
		return r
	}
	r.Result = &pipeline.TrainingResult{RunID: r.ID, Ticker: tk, ModelVersion: 1 + i/40,
		Metrics:   metrics.TestSummary{TestRMSE: rmse, NaiveRMSE: naive, N: 250},
		Efficacy:  metrics.Efficacy{Overall: metrics.Comparison{MASE: metrics.Maybe(rmse / naive), DMPValue: metrics.Maybe(rng.Float64())}},
		Promotion: pipeline.Promotion{Promoted: promoted}}
	return r
}

// A run whose error message (and ticker-like fields) hold markup is shown
// as text, and the page carries the security headers.
func TestUIRunsEscapesDataAndSetsHeaders(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	done := t0.Add(time.Minute)
	if err := runs.Write(ctx, store, runs.Record{ID: `train-NFLX-"x"`, Ticker: "NFLX", Status: runs.StatusFailed,
		StartedAt: t0, FinishedAt: &done, Error: `bad CSV header "<script>alert(1)</script>" & more`}); err != nil {
		t.Fatal(err)
	}
	h := newServerOn(t, store, api.WithRunsIndexRefresh(0))
	rec := uiGet(t, h, "/ui/runs")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /ui/runs: %d %q\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
	}
	if strings.Contains(body, "<script") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") ||
		!strings.Contains(body, "&amp; more") {
		t.Errorf("the error is not shown escaped:\n%s", body)
	}
	if !strings.Contains(body, `href="/runs/train-NFLX-%22x%22/report"`) {
		t.Errorf("the run id is not escaped in its link:\n%s", body)
	}
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		for _, path := range []string{"/ui/runs", "/ui/style.css", "/ui/runs?status=nope"} {
			if got := uiGet(t, h, path).Header().Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", path, name, got, want)
			}
		}
	}
	if rec := uiGet(t, h, "/ui/style.css"); rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Errorf("GET /ui/style.css: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// Filters, sorting by any column both ways, and pages of 50.
func TestUIRunsFilterSortPaginate(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []runs.Record
	for i := range 130 {
		r := genRun(i, rng, t0)
		if err := runs.Write(ctx, store, r); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	h := newServerOn(t, store, api.WithRunsIndexRefresh(0))

	// Default: newest first, 50 a page, with links to the next pages.
	p1 := uiGet(t, h, "/ui/runs").Body.String()
	ids := uiIDs(p1)
	if len(ids) != 50 || ids[0] != all[129].ID || ids[49] != all[80].ID {
		t.Fatalf("page 1: %d runs from %v, want 50 newest first", len(ids), ids[:min(2, len(ids))])
	}
	if !strings.Contains(p1, `href="/ui/runs?order=desc&amp;page=2&amp;sort=started"`) || !strings.Contains(p1, "page 1 of 3") {
		t.Errorf("page 1 has no link to page 2")
	}
	p3 := uiIDs(uiGet(t, h, "/ui/runs?page=3").Body.String())
	if len(p3) != 30 || p3[29] != all[0].ID {
		t.Errorf("page 3: %d runs, want the 30 oldest", len(p3))
	}
	if past := uiIDs(uiGet(t, h, "/ui/runs?page=99").Body.String()); !slices.Equal(past, p3) {
		t.Errorf("a page past the last is not the last")
	}

	// Filters: ticker (any case) and status.
	body := uiGet(t, h, "/ui/runs?ticker=aapl&status=completed").Body.String()
	var want []string
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Ticker == "AAPL" && all[i].Status == runs.StatusCompleted {
			want = append(want, all[i].ID)
		}
	}
	if got := uiIDs(body); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("AAPL completed: %v, want %v", got, want)
	}
	if !strings.Contains(body, `value="AAPL"`) || !strings.Contains(body, `<option value="completed" selected>`) {
		t.Errorf("the form does not show the filters")
	}

	// Sort by test RMSE, both ways; runs without one last either way.
	rmse := map[string]float64{}
	for _, r := range all {
		switch {
		case r.Result != nil:
			rmse[r.ID] = r.Result.Metrics.TestRMSE
		case r.RetrainResult != nil:
			rmse[r.ID] = r.RetrainResult.Metrics.TestRMSE
		}
	}
	for _, order := range []string{"asc", "desc"} {
		var got []string
		for page := 1; page <= 3; page++ {
			got = append(got, uiIDs(uiGet(t, h, fmt.Sprintf("/ui/runs?sort=rmse&order=%s&page=%d", order, page)).Body.String())...)
		}
		if len(got) != 130 {
			t.Fatalf("sorted by rmse %s: %d runs", order, len(got))
		}
		n := len(rmse)
		ok := sort.SliceIsSorted(got[:n], func(i, j int) bool {
			if order == "asc" {
				return rmse[got[i]] < rmse[got[j]]
			}
			return rmse[got[i]] > rmse[got[j]]
		})
		for _, id := range got[n:] {
			if _, has := rmse[id]; has {
				ok = false
			}
		}
		if !ok {
			t.Errorf("sorted by rmse %s: not in order, or runs without RMSE not last", order)
		}
	}
	// Every column sorts; the header links flip the order of the sorted one.
	for _, col := range []string{"id", "ticker", "kind", "status", "data", "epochs", "units", "layers", "lookback", "lr",
		"trials", "rmse", "naive", "mase", "dm_p", "promoted", "started", "duration", "error"} {
		for _, order := range []string{"asc", "desc"} {
			rec := uiGet(t, h, "/ui/runs?sort="+col+"&order="+order)
			flip := map[string]string{"asc": "desc", "desc": "asc"}[order]
			if rec.Code != http.StatusOK || len(uiIDs(rec.Body.String())) != 50 ||
				!strings.Contains(rec.Body.String(), `href="/ui/runs?order=`+flip+`&amp;sort=`+col+`" class="sorted"`) {
				t.Errorf("sort=%s order=%s: %d, or no header link flipping it", col, order, rec.Code)
			}
		}
	}
	sortedIDs := uiIDs(uiGet(t, h, "/ui/runs?sort=id").Body.String())
	if !slices.IsSorted(sortedIDs) {
		t.Errorf("sort=id: %v not sorted", sortedIDs)
	}

	for _, bad := range []string{"?ticker=N$X", "?status=done", "?sort=nope", "?order=up", "?page=0", "?page=x"} {
		if rec := uiGet(t, h, "/ui/runs"+bad); rec.Code != http.StatusBadRequest {
			t.Errorf("GET /ui/runs%s: %d, want 400", bad, rec.Code)
		}
	}
}

// A store written before the index existed is listed (the index rebuilt
// from the records), and runs written afterwards appear on the next
// request.
func TestUIRunsRebuildsAndFollowsWrites(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		r := runs.Record{ID: fmt.Sprintf("train-NFLX-old%d", i), Ticker: "NFLX", Status: runs.StatusCompleted, StartedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := blob.PutJSON(ctx, store, runs.Key(r.ID, "run.json"), r); err != nil { // no index
			t.Fatal(err)
		}
	}
	h := newServerOn(t, store, api.WithRunsIndexRefresh(0))
	if got := uiIDs(uiGet(t, h, "/ui/runs").Body.String()); !slices.Equal(got, []string{"train-NFLX-old2", "train-NFLX-old1", "train-NFLX-old0"}) {
		t.Fatalf("legacy runs: %v", got)
	}
	if err := runs.Write(ctx, store, runs.Record{ID: "train-AAPL-new", Ticker: "AAPL", Status: runs.StatusRunning, StartedAt: t0.Add(time.Hour * 9)}); err != nil {
		t.Fatal(err)
	}
	if got := uiIDs(uiGet(t, h, "/ui/runs").Body.String()); len(got) != 4 || got[0] != "train-AAPL-new" {
		t.Fatalf("after a write: %v", got)
	}
}

// BenchmarkUIRuns serves /ui/runs from a store of 2,000 run records (the
// index built as they were written). It reports ns/op of the default
// refresh (answers from memory between checks) and of refresh 0 (a
// generation check of every index object on every request), and the
// median of 300 single requests as p50-ms.
func BenchmarkUIRuns(b *testing.B) {
	ctx := context.Background()
	store, err := blob.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2000 {
		if err := runs.Write(ctx, store, genRun(i, rng, t0)); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name    string
		refresh time.Duration
		path    string
	}{
		{"default", api.DefaultRunsIndexRefresh, "/ui/runs"},
		{"check-every-request", 0, "/ui/runs"},
		{"filtered-sorted-page3", 0, "/ui/runs?ticker=NFLX&status=completed&sort=rmse&order=desc&page=3"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := api.New(store, gotch.CPU, api.WithRunsIndexRefresh(bc.refresh), api.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			b.Cleanup(srv.Close)
			h := srv.Handler()
			if rec := uiGet(b, h, bc.path); rec.Code != http.StatusOK || len(uiIDs(rec.Body.String())) == 0 {
				b.Fatalf("%s: %d", bc.path, rec.Code)
			}
			lat := make([]time.Duration, 300)
			for i := range lat {
				start := time.Now()
				uiGet(b, h, bc.path)
				lat[i] = time.Since(start)
			}
			slices.Sort(lat)
			b.ResetTimer()
			for b.Loop() {
				if rec := uiGet(b, h, bc.path); rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
			b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99-ms")
		})
	}
}
