package activities

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
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

// The report draws the zoom on the last test days and the cumulative
// squared-error difference besides the other charts, shows every plot of
// the run (the data plots too) in the documented order, and links the
// workflow in the Web UI when the worker knows it.
func TestReportDrawsZoomAndCumulativeCharts(t *testing.T) {
	h := newHarness(t)
	h.acts.WorkflowURL = func(id string) string { return "http://temporal.example/namespaces/default/workflows/" + id }
	ctx := context.Background()
	rec := runs.Record{ID: "run-report-charts", Ticker: "NFLX", Status: runs.StatusCompleted, Stage: "completed"}
	var saved steps.SaveRunResult
	if err := h.run(h.acts.SaveRun, rec, &saved); err != nil {
		t.Fatal(err)
	}
	if err := blob.PutBytes(ctx, h.acts.Store, runs.PlotsDir(rec.ID)+"data_raw_prices.png", []byte("png")); err != nil {
		t.Fatal(err)
	}
	ref := writeTestPredictions(t, h.acts.Store, rec.ID, 200)
	var out steps.ReportResult
	if err := h.run(h.acts.Report, steps.ReportInput{RunID: rec.ID, Predictions: ref}, &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"zoom.png", "cumulative.png", "residuals_time.png", "predictions.png", "residuals.png"} {
		b, err := blob.GetBytes(ctx, h.acts.Store, runs.PlotsDir(rec.ID)+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", name, err)
		}
		if bd := img.Bounds(); bd.Dx() < 300 || bd.Dy() < 150 || len(b) < 5000 {
			t.Errorf("%s is %dx%d, %d bytes: want a real chart", name, bd.Dx(), bd.Dy(), len(b))
		}
		if out.Artifacts["plots/"+name] == "" {
			t.Errorf("artifacts lack plots/%s: %v", name, out.Artifacts)
		}
	}
	page, err := blob.GetBytes(ctx, h.acts.Store, runs.ReportKey(rec.ID))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	var order []string
	for _, m := range regexp.MustCompile(`<img src="plots/([^"]+)"`).FindAllStringSubmatch(html, -1) {
		order = append(order, m[1])
	}
	want := "predictions.png zoom.png cumulative.png residuals_time.png residuals.png data_raw_prices.png"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("plots in the report: %s, want %s", got, want)
	}
	for _, want := range []string{`<a href="/ui/models/NFLX">NFLX models</a>`,
		`href="http://temporal.example/namespaces/default/workflows/run-report-charts"`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %s", want)
		}
	}
}

// writeTestPredictions stores n days of predictions (the model a little
// better than naive) for a run and returns their reference.
func writeTestPredictions(t *testing.T, store blob.Store, runID string, n int) blob.Ref {
	t.Helper()
	p := &frame.Predictions{}
	start := time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC)
	for i := range n {
		actual := 100 + 10*math.Sin(float64(i)/9)
		p.Date = append(p.Date, start.AddDate(0, 0, i))
		p.Actual = append(p.Actual, actual)
		p.Naive = append(p.Naive, 100+10*math.Sin(float64(i-1)/9))
		p.Predicted = append(p.Predicted, actual+0.5*math.Cos(float64(i)))
	}
	var buf bytes.Buffer
	if err := frame.WritePredictions(&buf, p, memory.DefaultAllocator); err != nil {
		t.Fatal(err)
	}
	key := runs.PredictionsKey(runID)
	if err := blob.PutBytes(context.Background(), store, key, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	return blob.Ref{Key: key, SHA256: blob.ContentHash(buf.Bytes()), Rows: n}
}
