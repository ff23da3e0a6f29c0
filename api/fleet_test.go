package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// POST /fleet starts FleetPipeline on files in the store, under the id
// asked for (409 while one runs with it), after checking the request.
func TestFleetStartsThePipeline(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	body := `{"id":"fleet-test","kind":"training","parallel":3,"items":[{"ticker":"nflx","csv_key":"` + pricesKey + `"}],"train":{"epochs":2,"units":8}}`
	rec := ws.callJSON(http.MethodPost, "/fleet", body)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /fleet: %d %s", rec.Code, rec.Body.String())
	}
	ans := decode[map[string]any](t, rec)
	if ans["workflow_id"] != "fleet-test" || ans["report_url"] != "/ui/fleets/fleet-test" || rec.Header().Get("Location") != "/fleets/fleet-test" {
		t.Errorf("answer %v, Location %q", ans, rec.Header().Get("Location"))
	}
	w := ws.tc.get("fleet-test")
	if w == nil || w.typ != pipeline.FleetWorkflow {
		t.Fatalf("started %+v", w)
	}
	in := w.args[0].(pipeline.FleetInput)
	if in.Parallel != 3 || in.Training.Model.Epochs != 2 || in.Training.Model.Units != 8 || in.Training.Model.Layers != 2 || len(in.Items) != 1 {
		t.Errorf("fleet input %+v", in)
	}
	if rec := ws.callJSON(http.MethodPost, "/fleet", body); rec.Code != http.StatusConflict {
		t.Errorf("the same id again: %d %s, want 409", rec.Code, rec.Body.String())
	}
	for name, bad := range map[string]string{
		"no tickers":   `{"kind":"training"}`,
		"missing file": `{"items":[{"ticker":"NFLX","csv_key":"uploads/nope.csv"}]}`,
		"kind":         `{"kind":"backtest","items":[{"ticker":"NFLX","csv_key":"` + pricesKey + `"}]}`,
		"twice":        `{"items":[{"ticker":"NFLX","csv_key":"` + pricesKey + `"},{"ticker":"nflx","csv_key":"` + pricesKey + `"}]}`,
		"epochs":       `{"prefix":"fleets-in/","train":{"epochs":-1}}`,
		"id":           `{"id":"../x","prefix":"fleets-in/"}`,
		"unknown":      `{"prefix":"fleets-in/","tickerz":["A"]}`,
	} {
		if rec := ws.callJSON(http.MethodPost, "/fleet", bad); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s, want 400 with a reason", name, rec.Code, rec.Body.String())
		}
	}
}

// GET /fleets/{id} and /ui/fleets/{id}: a running fleet's progress, then
// its report from the store, failure reasons shown as text.
func TestFleetStatusAndReportPage(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	ws.tc.set(&fakeWorkflow{id: "fleet-a", runID: "r1", typ: pipeline.FleetWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		progress: pipeline.FleetProgress{Kind: "training", Total: 3, Done: 1, Running: []string{"AAPL"}, Queued: 1, Runs: 1}})
	rec := ws.call(http.MethodGet, "/fleets/fleet-a", "", "", nil)
	st := decode[map[string]any](t, rec)
	if rec.Code != http.StatusOK || st["status"] != "running" {
		t.Fatalf("running fleet: %d %v", rec.Code, st)
	}
	page := ws.call(http.MethodGet, "/ui/fleets/fleet-a", "", "", nil).Body.String()
	if !strings.Contains(page, `<meta http-equiv="refresh" content="5">`) || !strings.Contains(page, "<b>1</b> of 3 done") {
		t.Errorf("running page:\n%s", page)
	}

	res := pipeline.FleetResult{FleetID: "fleet-a", Kind: "training", Started: time.Unix(0, 0), Finished: time.Unix(95, 0), Runs: 2,
		Outcomes: []pipeline.FleetOutcome{
			{Ticker: "AAPL", Status: "completed", ModelVersion: 1, RMSE: 1.9, NaiveRMSE: 2, TestDays: 200, MASE: 0.97, DMP: 0.04, Alias: "champion", Promoted: true, WorkflowID: "fleet-a-AAPL"},
			{Ticker: "BAD", Status: "failed", Reason: `ingest failed: line 3, column "Open": "<script>x</script>": want a number`},
			{Ticker: "MSFT", Status: "completed", ModelVersion: 1, RMSE: 2.1, NaiveRMSE: 2, TestDays: 200, Alias: "challenger", WorkflowID: "fleet-a-MSFT"},
		}}
	res.Totals = pipeline.FleetTotalsOf(res.Outcomes)
	if err := blob.PutJSON(context.Background(), ws.store, pipeline.FleetReportKey("fleet-a"), res); err != nil {
		t.Fatal(err)
	}
	st = decode[map[string]any](t, ws.call(http.MethodGet, "/fleets/fleet-a", "", "", nil))
	if st["status"] != "completed" {
		t.Fatalf("finished fleet: %v", st)
	}
	rec = ws.call(http.MethodGet, "/ui/fleets/fleet-a", "", "", nil)
	page = rec.Body.String()
	for _, want := range []string{"<b>3</b> tickers, 2 completed", "<b>1</b> beat naive", "1m35s in 2 runs",
		`<td>ingest failed</td><td class="num">1</td>`, "&lt;script&gt;x&lt;/script&gt;", `href="/runs/fleet-a-AAPL/report"`, "-5.00%"} {
		if !strings.Contains(page, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || rec.Header().Get("Content-Security-Policy") == "" {
		t.Errorf("markup reached the page, or no CSP")
	}
	if rec := ws.call(http.MethodGet, "/fleets/nope", "", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown fleet: %d", rec.Code)
	}
	if rec := ws.call(http.MethodGet, "/ui/fleets/..%5Cx", "", "", nil); rec.Code != http.StatusBadRequest {
		t.Errorf("bad id: %d", rec.Code)
	}
}
