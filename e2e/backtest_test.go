package e2e

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
)

// A Backtest of the last 800 days of NFLX, 3 folds of a tiny LSTM, on a
// real dev server and worker: the folds come back in time order, each
// trained strictly before its test block, as children <id>-fold-<k>; the
// summary has the model and the three baselines on the same days (naive's
// MASE exactly 1); intervals are the served kind (scaled by the last
// Open) and their coverage and width recompute from the stored
// forecasts; summary and report are in the store. Then a backtest without a CSV runs on the data the ticker's
// champion was trained on.
func TestBacktestOfNFLX(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	up := s.uploadLastRows(ctx, t, "NFLX.csv", 800)
	tiny := pipeline.ModelParams{Epochs: 1, Units: 8, Layers: 1}
	res := s.backtest(ctx, t, "bt-nflx", pipeline.BacktestInput{Ticker: "NFLX", CSVKey: up.Key, Spec: backtest.Spec{Folds: 3},
		Lookback: 20, Model: tiny, Parallel: 2})

	if len(res.Folds) != 3 {
		t.Fatalf("%d folds, want 3", len(res.Folds))
	}
	for i, f := range res.Folds {
		if f.Fold.Index != i || f.Fold.Train.End > f.Fold.Validation.Start || f.Fold.Validation.End > f.Fold.Test.Start ||
			f.TrainLast >= f.TestFirst || (i > 0 && f.Fold.Test.Start < res.Folds[i-1].Fold.Test.End) {
			t.Fatalf("fold %d: %+v (train to %s, test from %s): out of order or trained on its test block", i, f.Fold, f.TrainLast, f.TestFirst)
		}
		if f.Windows[2] != f.Fold.Test.Len() || f.Epochs != 1 || len(f.Intervals) != 4 {
			t.Errorf("fold %d: windows %v for %d test rows, %d epochs, %d models with intervals", i, f.Windows, f.Fold.Test.Len(), f.Epochs, len(f.Intervals))
		}
		checkFoldBands(ctx, t, s.store, f)
		d, err := s.c.DescribeWorkflowExecution(ctx, pipeline.BacktestFoldID("bt-nflx", i), "")
		if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			t.Errorf("fold child %s: %v", pipeline.BacktestFoldID("bt-nflx", i), err)
		}
	}
	var models []string
	for _, m := range res.Summary {
		models = append(models, m.Model)
		if m.Folds != 3 || m.PooledN != res.Folds[0].Fold.Test.Len()*3 {
			t.Errorf("%s: %d folds, %d pooled days", m.Model, m.Folds, m.PooledN)
		}
	}
	if !slices.Equal(models, []string{"lstm", "naive", "drift", "ewma"}) || float64(res.Summary[1].MASE.Mean) != 1 {
		t.Fatalf("summary models %v, naive MASE %v", models, res.Summary[1].MASE.Mean)
	}
	if len(res.Intervals) != 8 || res.Intervals[0].MeanWidth <= 0 || res.Intervals[0].Scale != metrics.ScaleLastOpen {
		t.Errorf("intervals %+v", res.Intervals)
	}
	page, err := blob.GetBytes(ctx, s.store, pipeline.BacktestReportKey("bt-nflx"))
	if err != nil || !strings.Contains(string(page), "backtest bt-nflx") || !strings.Contains(string(page), "plots/fold_02.png") {
		t.Fatalf("report: %v", err)
	}
	if _, err := blob.GetBytes(ctx, s.store, pipeline.BacktestSummaryKey("bt-nflx")); err != nil {
		t.Fatalf("summary: %v", err)
	}

	trained := s.trainAs(t, "e2e-bt-train", pipeline.TrainingInput{Ticker: "NFLX", CSVKey: up.Key, Lookback: 20, Model: tiny, ForcePromote: true})
	champ := s.backtest(ctx, t, "bt-champion", pipeline.BacktestInput{Ticker: "NFLX", Spec: backtest.Spec{Folds: 2},
		Lookback: 20, Model: tiny, Parallel: 2})
	if champ.Raw.SHA256 != trained.Raw.SHA256 || len(champ.Folds) != 2 {
		t.Fatalf("champion backtest on raw %s with %d folds, want the champion's %s and 2", champ.Raw.SHA256, len(champ.Folds), trained.Raw.SHA256)
	}
}

// checkFoldBands recomputes a fold's interval coverage and mean width,
// for every model and level, from the forecasts it stored: the bands
// are the served kind, half-width × each day's last Open.
func checkFoldBands(ctx context.Context, t *testing.T, store blob.Store, f pipeline.BacktestFoldResult) {
	t.Helper()
	b, err := blob.GetBytes(ctx, store, f.Forecasts.Key)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := frame.ReadForecasts(bytes.NewReader(b), memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	for _, iv := range f.Intervals {
		pred := fc.Column(iv.Model)
		if iv.Scale != metrics.ScaleLastOpen || pred == nil {
			t.Fatalf("fold %d, %s: scale %q, %d forecasts", f.Fold.Index, iv.Model, iv.Scale, len(pred))
		}
		for _, r := range iv.Results {
			in, width := 0, 0.0
			for d, a := range fc.Actual {
				if math.Abs(a-pred[d]) <= r.HalfWidth*fc.Last[d] {
					in++
				}
				width += 2 * r.HalfWidth * fc.Last[d] / float64(fc.Len())
			}
			if cov := float64(in) / float64(fc.Len()); r.Coverage != cov || math.Abs(r.Width-width) > 1e-9*width {
				t.Errorf("fold %d, %s at %g: coverage %g, width %g; recomputed %g, %g", f.Fold.Index, iv.Model, r.Level, r.Coverage, r.Width, cov, width)
			}
		}
	}
}

// backtest runs a Backtest under id and waits for it.
func (s *stack) backtest(ctx context.Context, t *testing.T, id string, in pipeline.BacktestInput) pipeline.BacktestResult {
	t.Helper()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, pipeline.BacktestWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	var res pipeline.BacktestResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("backtest %s failed: %v", id, err)
	}
	return res
}

// A backtest on a worker process killed with kill -9 while a fold trains:
// a new worker resumes that fold's training from its checkpoint, the fold
// finished before the kill is not run again, and the backtest completes
// with every fold.
func TestBacktestSurvivesKillNineOfTheWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a worker process: not in -short")
	}
	cs := startCrashStack(t, "e2e-backtest-crash")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "NFLX.csv")
	if err := os.WriteFile(path, lastRows(t, sharedtest.Path(t, "single", "NFLX.csv"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	up, err := launch.UploadFile(ctx, cs.store, path)
	if err != nil {
		t.Fatal(err)
	}
	const id = "bt-crash"
	in := pipeline.BacktestInput{Ticker: "NFLX", CSVKey: up.Key, Spec: backtest.Spec{Folds: 3}, Lookback: 20, Parallel: 1,
		Model: pipeline.ModelParams{Epochs: 8, Units: 16, Layers: 1}}
	run, err := cs.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cs.queue}, pipeline.BacktestWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	// Parallel 1: fold 0 has finished when fold 1 writes a checkpoint.
	waitForFoldCheckpoint(t, cs.store, pipeline.BacktestFoldID(id, 1), 2*time.Minute)
	killedAt := time.Now()
	cs.restart(t)

	var res pipeline.BacktestResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("backtest failed after kill -9: %v", err)
	}
	if len(res.Folds) != 3 || len(res.Summary) != 4 {
		t.Fatalf("%d folds, %d models", len(res.Folds), len(res.Summary))
	}
	if res.Folds[0].ResumedFrom != 0 || res.Folds[1].ResumedFrom < 1 {
		t.Errorf("fold 0 resumed from epoch %d, fold 1 from %d: want 0 and a checkpoint", res.Folds[0].ResumedFrom, res.Folds[1].ResumedFrom)
	}
	d, err := cs.c.DescribeWorkflowExecution(ctx, pipeline.BacktestFoldID(id, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	if closed := d.GetWorkflowExecutionInfo().GetCloseTime().AsTime(); !closed.Before(killedAt) {
		t.Errorf("fold 0 closed at %v, after the kill at %v: it ran again", closed, killedAt)
	}
}

// waitForFoldCheckpoint waits for the first training checkpoint of a
// fold's child workflow.
func waitForFoldCheckpoint(t *testing.T, store blob.Store, foldID string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		keys, err := store.List(context.Background(), "runs/"+foldID+"/checkpoints/")
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s wrote no checkpoint within %v", foldID, limit)
}

// uploadLastRows uploads the last n rows of ../shared/data/single/<name>
// (with its header) to the stack's store.
func (s *stack) uploadLastRows(ctx context.Context, t *testing.T, name string, n int) launch.Upload {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, lastRows(t, sharedtest.Path(t, "single", name), n), 0o644); err != nil {
		t.Fatal(err)
	}
	up, err := launch.UploadFile(ctx, s.store, path)
	if err != nil {
		t.Fatal(err)
	}
	return up
}
