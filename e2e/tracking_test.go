package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
)

// checkTracking asserts what a finished TrainingPipeline left for people:
// the run record with its steps, data versions and peak memory, the report
// page, the progress query and the search attributes.
func checkTracking(t *testing.T, s *stack, res pipeline.TrainingResult, apiURL string) {
	t.Helper()
	ctx := context.Background()
	rec, err := runs.Read(ctx, s.store, res.WorkflowID)
	if err != nil {
		t.Fatalf("run record: %v", err)
	}
	if rec.Status != runs.StatusCompleted || rec.Result == nil || rec.Result.ModelVersion != res.ModelVersion {
		t.Fatalf("run record status %q result %+v", rec.Status, rec.Result)
	}
	if rec.Data.Raw.SHA256 != res.Raw.SHA256 || rec.Data.Windows[2].Rows != res.Windows[2] {
		t.Fatalf("run record data %+v does not match the result", rec.Data)
	}
	steps := map[string]runs.Step{}
	for _, st := range rec.Steps {
		steps[st.Name] = st
	}
	for _, name := range []string{"ingest", "validate", "clean", "plot", "scale", "window", "train", "evaluate", "register", "promote"} {
		st, ok := steps[name]
		if !ok {
			t.Errorf("run record has no step %s", name)
			continue
		}
		if st.PeakRSSMB <= 0 {
			t.Errorf("step %s has no peak memory measured", name)
		}
	}
	if steps["train"].WallMS <= 0 {
		t.Errorf("train step has no wall time")
	}
	if !strings.HasSuffix(res.ReportURI, "runs/"+res.WorkflowID+"/report.html") {
		t.Errorf("report URI %q", res.ReportURI)
	}

	resp, err := http.Get(fmt.Sprintf("%s/runs/%s/report", apiURL, res.WorkflowID))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "vs the naive forecast") {
		t.Fatalf("GET report: %d\n%.300s", resp.StatusCode, page)
	}
	resp, err = http.Get(apiURL + "/runs?ticker=" + res.Ticker)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), res.WorkflowID) {
		t.Fatalf("GET /runs: %d %.300s", resp.StatusCode, body)
	}

	// The progress query still answers after the run, with its last stage.
	v, err := s.c.QueryWorkflow(ctx, res.WorkflowID, res.RunID, pipeline.ProgressQuery)
	if err != nil {
		t.Fatalf("progress query: %v", err)
	}
	var p pipeline.Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	if p.Stage != "promote" || p.Epoch != len(res.Curve) {
		t.Fatalf("progress after the run = %+v, want stage promote at epoch %d", p, len(res.Curve))
	}

	// Search attributes: the run is found by ticker and model version.
	q := fmt.Sprintf("Ticker = %q AND ModelVersion = %d", res.Ticker, res.ModelVersion)
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := s.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q})
		if err != nil {
			t.Fatalf("list workflows %q: %v", q, err)
		}
		if len(list.Executions) == 1 && list.Executions[0].Execution.WorkflowId == res.WorkflowID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility query %q found %d runs, want this one", q, len(list.Executions))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
