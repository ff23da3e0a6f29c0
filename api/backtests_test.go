package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// GET /backtests/{id}: a running backtest's progress, then its summary
// from the store; /report and /plots/ serve what the backtest wrote, the
// page under the report's CSP; a fleet's id is not a backtest's.
func TestBacktestStatusReportAndPlots(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	ws.tc.set(&fakeWorkflow{id: "bt-a", runID: "r1", typ: pipeline.BacktestWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		progress: pipeline.BacktestProgress{Stage: "folds", Folds: 8, Done: 3, Running: []int{3, 4}}})
	ws.tc.set(&fakeWorkflow{id: "fleet-b", runID: "r2", typ: pipeline.FleetWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		progress: pipeline.FleetProgress{Kind: "training", Total: 3}})

	rec := ws.call(http.MethodGet, "/backtests/bt-a", "", "", nil)
	st := decode[map[string]any](t, rec)
	prog, _ := st["progress"].(map[string]any)
	if rec.Code != http.StatusOK || st["status"] != "running" || prog["stage"] != "folds" || prog["done"] != 3.0 {
		t.Fatalf("running backtest: %d %v", rec.Code, st)
	}
	if rec := ws.call(http.MethodGet, "/backtests/bt-a/report", "", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("report of a running backtest: %d %s, want 404", rec.Code, rec.Body.String())
	}
	if rec := ws.call(http.MethodGet, "/backtests/fleet-b", "", "", nil); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "not a backtest") {
		t.Errorf("a fleet's id: %d %s, want 404 not a backtest", rec.Code, rec.Body.String())
	}

	ctx := context.Background()
	res := pipeline.BacktestResult{BacktestID: "bt-a", Ticker: "NFLX",
		Summary: []backtest.ModelSummary{{Model: pipeline.ModelLSTM}, {Model: "naive"}}}
	if err := blob.PutJSON(ctx, ws.store, pipeline.BacktestSummaryKey("bt-a"), res); err != nil {
		t.Fatal(err)
	}
	page := `<html><body><img src="plots/rmse.png"></body></html>`
	png := "\x89PNG\r\n\x1a\nfake"
	for key, body := range map[string]string{pipeline.BacktestReportKey("bt-a"): page, pipeline.BacktestDir("bt-a") + "plots/rmse.png": png} {
		if err := ws.store.Put(ctx, key, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	st = decode[map[string]any](t, ws.call(http.MethodGet, "/backtests/bt-a", "", "", nil))
	result, _ := st["result"].(map[string]any)
	if st["status"] != "completed" || st["report_url"] != "/backtests/bt-a/report" || result["ticker"] != "NFLX" {
		t.Fatalf("finished backtest: %v", st)
	}
	rec = ws.call(http.MethodGet, "/backtests/bt-a/report", "", "", nil)
	if rec.Code != http.StatusOK || rec.Body.String() != page || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("report: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	rec = ws.call(http.MethodGet, "/backtests/bt-a/plots/rmse.png", "", "", nil)
	if rec.Code != http.StatusOK || rec.Body.String() != png || rec.Header().Get("Content-Type") != "image/png" {
		t.Errorf("plot: %d %v", rec.Code, rec.Header())
	}
	for path, want := range map[string]int{
		"/backtests/bt-a/plots/nope.png":       http.StatusNotFound,
		"/backtests/bt-a/plots/report.html":    http.StatusBadRequest,
		"/backtests/..%5Cx":                    http.StatusBadRequest,
		"/backtests/..%5Cx/report":             http.StatusBadRequest,
		"/backtests/bt-a/plots/..%2Fx.png":     http.StatusNotFound, // decoded by the router: no such route
		"/backtests/never-started":             http.StatusNotFound,
		"/backtests/never-started/plots/a.png": http.StatusNotFound,
	} {
		if rec := ws.call(http.MethodGet, path, "", "", nil); rec.Code != want || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("GET %s: %d %s, want %d with a reason", path, rec.Code, rec.Body.String(), want)
		}
	}
}
