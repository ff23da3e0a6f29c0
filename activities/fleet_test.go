package activities

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/internal/steps"
)

// The files under a prefix are items named after their tickers; a file
// that is not named after one is skipped with why.
func TestListFleetFiles(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, k := range []string{"in/AAL_data.csv", "in/msft.CSV", "in/notes.txt", "in/bad name!.csv", "other/IBM.csv"} {
		if err := blob.PutBytes(ctx, h.acts.Store, k, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	var res steps.ListFleetResult
	if err := h.run(steps.ListFleetFiles, steps.ListFleetInput{Prefix: "in/"}, &res); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range res.Items {
		got = append(got, it.Ticker+"="+it.CSVKey)
	}
	if strings.Join(got, " ") != "AAL=in/AAL_data.csv MSFT=in/msft.CSV" {
		t.Errorf("items %v", got)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Status != pipeline.FleetFailed || !strings.Contains(res.Skipped[0].Reason, "bad name!.csv") {
		t.Errorf("skipped %+v", res.Skipped)
	}
}

// A group of real files through the data chain: each good file prepared
// (windows written), a broken one and a too-short one failed with the step
// that refused them; a retried group resumes after its heartbeats.
func TestPrepareTickers(t *testing.T) {
	h := newHarness(t)
	aal, err := os.ReadFile(sharedtest.Path(t, "sp500_5yr", "AAL_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	items := []pipeline.FleetItem{
		{Ticker: "AAL", CSVKey: h.upload(string(aal))},
		{Ticker: "BRKN", CSVKey: h.upload("date,open,high,low,close,volume\n2013-02-08,abc,1,1,1,100\n")},
		{Ticker: "SHRT", CSVKey: h.upload(yahooCSV(40))},
		{Ticker: "SYN", CSVKey: h.upload(yahooCSV(230))},
	}
	var res steps.PrepareResult
	if err := h.run(steps.PrepareTickers, steps.PrepareInput{Items: items, Spec: steps.PrepareSpecOf(pipeline.TrainingInput{Lookback: 10})}, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Outcomes) != 4 {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	aalOut, brkn, shrt, syn := res.Outcomes[0], res.Outcomes[1], res.Outcomes[2], res.Outcomes[3]
	if aalOut.Status != pipeline.FleetCompleted || aalOut.Rows != 1259 || aalOut.Windows[0] == 0 || aalOut.Windows[2] == 0 {
		t.Errorf("AAL %+v", aalOut)
	}
	if brkn.Status != pipeline.FleetFailed || !strings.HasPrefix(brkn.Reason, "ingest failed: ") {
		t.Errorf("BRKN %+v", brkn)
	}
	if shrt.Status != pipeline.FleetFailed || !strings.HasPrefix(shrt.Reason, "window failed: ") {
		t.Errorf("SHRT %+v", shrt)
	}
	if syn.Status != pipeline.FleetCompleted {
		t.Errorf("SYN %+v", syn)
	}
	raw, err1 := h.acts.Store.List(context.Background(), "data/raw/AAL/")
	windows, err2 := h.acts.Store.List(context.Background(), "data/derived/window/")
	if len(raw) != 1 || len(windows) < 6 || err1 != nil || err2 != nil {
		t.Errorf("the store holds %d raw versions of AAL and %d window files (%v, %v), want 1 and both tickers' 3 splits", len(raw), len(windows), err1, err2)
	}
}

// The report is the result as JSON (with where it is) and a CSV row per
// ticker.
func TestFleetReport(t *testing.T) {
	h := newHarness(t)
	res := pipeline.FleetResult{FleetID: "fleet-x", Kind: pipeline.FleetTraining, Outcomes: []pipeline.FleetOutcome{
		{Ticker: "AAL", Status: pipeline.FleetCompleted, ModelVersion: 1, RMSE: 0.9, NaiveRMSE: 1, TestDays: 250, Alias: "champion", Promoted: true},
		{Ticker: "BRKN", Status: pipeline.FleetFailed, Reason: `ingest failed: line 2, column "open": "abc", "x"`},
	}}
	var out steps.FleetReportResult
	if err := h.run(steps.FleetReport, steps.FleetReportInput{Result: res}, &out); err != nil {
		t.Fatal(err)
	}
	var stored pipeline.FleetResult
	if err := blob.GetJSON(context.Background(), h.acts.Store, pipeline.FleetReportKey("fleet-x"), &stored); err != nil {
		t.Fatal(err)
	}
	if stored.CSV != out.CSV || !strings.HasSuffix(out.CSV, "fleets/fleet-x/report.csv") || len(stored.Outcomes) != 2 {
		t.Errorf("stored %+v, answer %+v", stored, out)
	}
	table, err := blob.GetBytes(context.Background(), h.acts.Store, pipeline.FleetCSVKey("fleet-x"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(table)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "AAL,completed,1,0.9,1,true,") ||
		!strings.HasSuffix(lines[2], `"ingest failed: line 2, column ""open"": ""abc"", ""x"""`) {
		t.Errorf("report.csv:\n%s", table)
	}
}
