package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/sharedtest"
)

// sp500Items uploads the first n files of ../shared/data/sp500_5yr (by
// name) and returns them as fleet items.
func sp500Items(t *testing.T, store blob.Store, n int) []pipeline.FleetItem {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(sharedtest.Path(t, "sp500_5yr"), "*.csv"))
	if err != nil || len(paths) < n {
		t.Fatalf("sp500_5yr: %d files (%v)", len(paths), err)
	}
	slices.Sort(paths)
	var items []pipeline.FleetItem
	for _, p := range paths[:n] {
		tk, err := pipeline.TickerFromFileName(filepath.Base(p))
		if err != nil {
			t.Fatal(err)
		}
		up, err := launch.UploadFile(context.Background(), store, p)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, pipeline.FleetItem{Ticker: tk, CSVKey: up.Key, Name: up.Name})
	}
	return items
}

// brokenItem is a price file whose prices are not numbers.
func brokenItem(t *testing.T, store blob.Store, ticker string) pipeline.FleetItem {
	t.Helper()
	b := []byte("date,open,high,low,close,volume,Name\n2013-02-08,abc,1,1,1,100," + ticker + "\n2013-02-11,def,1,1,1,100," + ticker + "\n")
	key := pipeline.UploadKey(blob.ContentHash(b))
	if err := blob.PutBytes(context.Background(), store, key, b); err != nil {
		t.Fatal(err)
	}
	return pipeline.FleetItem{Ticker: ticker, CSVKey: key, Name: ticker + ".csv"}
}

// A fleet of 20 S&P 500 tickers and a broken file on two worker
// processes, one of them killed with kill -9 mid-fleet and started again:
// the fleet completes (continuing as new on the way), every ticker is
// registered exactly once, the broken one is listed as failed with its
// reason, and the report lists all of them with model vs naive.
func TestFleetSurvivesKillNineOfAWorker(t *testing.T) {
	cs := startCrashStack(t, "e2e-fleet")
	startWorker(t, cs.bin, cs.env) // the second worker
	ctx := context.Background()
	items := append(sp500Items(t, cs.store, 20), brokenItem(t, cs.store, "BRKN"))
	in := pipeline.FleetInput{Items: items, Parallel: 4, PerRun: 8,
		Training: pipeline.TrainingInput{Lookback: 20, Model: pipeline.ModelParams{Epochs: 2, Units: 8, Layers: 1}}}
	run, err := cs.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "fleet-e2e", TaskQueue: cs.queue}, pipeline.FleetWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	done := waitFleet(t, cs.c, "fleet-e2e", func(p pipeline.FleetProgress) bool { return p.Done >= 5 }, 10*time.Minute)
	t.Logf("kill -9 of a worker at %+v", done)
	cs.restart(t)

	wctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	var res pipeline.FleetResult
	if err := run.Get(wctx, &res); err != nil {
		t.Fatalf("fleet failed: %v", err)
	}
	if len(res.Outcomes) != 21 || res.Totals.Completed != 20 || res.Totals.Failed != 1 || res.Runs < 3 {
		t.Fatalf("fleet: %d outcomes, totals %+v, %d runs (want 21, 20 completed, 1 failed, ≥ 3 runs)", len(res.Outcomes), res.Totals, res.Runs)
	}
	reg := registry.Registry{Store: cs.store}
	for _, o := range res.Outcomes {
		if o.Ticker == "BRKN" {
			if o.Status != pipeline.FleetFailed || !strings.Contains(o.Reason, "ingest failed") {
				t.Errorf("broken file: %+v", o)
			}
			continue
		}
		if o.Status != pipeline.FleetCompleted || o.TestDays == 0 || o.RMSE <= 0 || o.NaiveRMSE <= 0 || o.ModelVersion != 1 {
			t.Errorf("%s: %+v", o.Ticker, o)
		}
		m, err := reg.Manifest(ctx, o.Ticker)
		if err != nil || len(m.Versions) != 1 {
			t.Errorf("%s: %d versions registered (%v), want exactly 1", o.Ticker, len(m.Versions), err)
		}
	}
	var stored pipeline.FleetResult
	if err := blob.GetJSON(ctx, cs.store, pipeline.FleetReportKey("fleet-e2e"), &stored); err != nil || len(stored.Outcomes) != 21 {
		t.Fatalf("stored report: %v, %d tickers", err, len(stored.Outcomes))
	}
	table, err := blob.GetBytes(ctx, cs.store, pipeline.FleetCSVKey("fleet-e2e"))
	if err != nil || strings.Count(string(table), "\n") != 22 {
		t.Errorf("report.csv: %v\n%s", err, table)
	}
	t.Logf("fleet: %d beat naive of %d, %d runs, %s; largest run's history: %d events",
		res.Totals.BeatNaive, res.Totals.Completed, res.Runs, res.Finished.Sub(res.Started).Round(time.Second), largestHistory(t, cs.c, "fleet-e2e"))
}

// waitFleet polls a fleet's progress until ok says so.
func waitFleet(t *testing.T, c client.Client, id string, ok func(pipeline.FleetProgress) bool, limit time.Duration) pipeline.FleetProgress {
	t.Helper()
	deadline := time.Now().Add(limit)
	var p pipeline.FleetProgress
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		v, err := c.QueryWorkflow(ctx, id, "", pipeline.ProgressQuery)
		cancel()
		if err == nil && v.Get(&p) == nil && ok(p) {
			return p
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("fleet %s: not there within %v (last progress %+v)", id, limit, p)
	return p
}

// largestHistory is the longest history among the runs of a workflow id
// (continue-as-new makes several).
func largestHistory(t *testing.T, c client.Client, id string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowId = '" + id + "'"})
	if err != nil {
		t.Fatalf("list the runs of %s: %v", id, err)
	}
	var most int64
	for _, e := range resp.GetExecutions() {
		most = max(most, e.GetHistoryLength())
	}
	return most
}
