package activities

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// The workflow renders the report before it saves the finished record, so
// it passes that record: the report shows it, not the saved one (still
// running).
func TestReportRendersTheRecordItIsGiven(t *testing.T) {
	h := newHarness(t)
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := runs.Record{ID: "run-report", Ticker: "NFLX", Status: runs.StatusRunning, Stage: "promote", StartedAt: start}
	var saved steps.SaveRunResult
	if err := h.run(h.acts.SaveRun, rec, &saved); err != nil {
		t.Fatal(err)
	}
	page := func(in steps.ReportInput) string {
		t.Helper()
		var out steps.ReportResult
		if err := h.run(h.acts.Report, in, &out); err != nil {
			t.Fatal(err)
		}
		if out.Artifacts["report"] == "" {
			t.Fatalf("report artifacts %v", out.Artifacts)
		}
		html, err := blob.GetBytes(context.Background(), h.acts.Store, runs.ReportKey(rec.ID))
		if err != nil {
			t.Fatal(err)
		}
		return string(html)
	}
	if html := page(steps.ReportInput{RunID: rec.ID}); !strings.Contains(html, "Status <b>running</b>") {
		t.Fatalf("without a record the saved one is rendered; page:\n%s", html)
	}
	final := runs.Final{Status: runs.StatusCompleted, FinishedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	if html := page(steps.ReportInput{RunID: rec.ID, Final: &final}); !strings.Contains(html, "Status <b>completed</b>") {
		t.Fatalf("the saved record is not rendered with the given outcome; page:\n%s", html)
	}
}
