package runs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
)

func indexStore(t *testing.T) blob.Store {
	t.Helper()
	s, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readIndex(t *testing.T, s blob.Store) []Summary {
	t.Helper()
	rows, err := ReadIndex(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Every write of a record updates its row: the first adds it, the next
// replace it (no duplicates), and rows hold what a list shows.
func TestIndexUpdatedByWrites(t *testing.T) {
	ctx := context.Background()
	s := indexStore(t)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	in := pipeline.TrainingInput{Lookback: 30, Model: pipeline.ModelParams{Epochs: 10, Units: 64, Layers: 2, LearningRate: 1e-3},
		Tune: pipeline.TuneSpec{Trials: 8}}
	rec := Record{ID: "train-NFLX-1", Workflow: pipeline.TrainingWorkflow, Ticker: "NFLX", Status: StatusRunning, StartedAt: t0,
		Input: in, Data: Data{Raw: blob.Ref{SHA256: "0123456789abcdef0123"}}}
	if err := Write(ctx, s, rec); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, s, Record{ID: "retrain-AAPL-2", Workflow: pipeline.RetrainingWorkflow, Ticker: "AAPL",
		Status: StatusFailed, StartedAt: t0.Add(time.Hour), Error: strings.Repeat("x", 500),
		Retrain: &pipeline.RetrainingInput{Ticker: "AAPL", Options: pipeline.RetrainOptions{Epochs: 5}}}); err != nil {
		t.Fatal(err)
	}
	rows := readIndex(t, s)
	if len(rows) != 2 || rows[0].ID != "retrain-AAPL-2" || rows[1].ID != "train-NFLX-1" {
		t.Fatalf("rows %+v, want 2, newest first", rows)
	}
	if r := rows[0]; r.Kind != KindRetraining || r.Epochs != 5 || len(r.Error) > maxIndexError || !strings.HasSuffix(r.Error, "…") {
		t.Errorf("retrain row %+v", r)
	}
	if r := rows[1]; r.Kind != KindTraining || r.Status != StatusRunning || r.Data != "0123456789ab" || r.Epochs != 10 ||
		r.Units != 64 || r.Layers != 2 || r.Lookback != 30 || r.LR != 1e-3 || r.Trials != 8 || r.TestRMSE != nil || r.EndedAt != nil {
		t.Errorf("running row %+v", r)
	}

	// The run finishes: the same row, now completed with metrics.
	end := t0.Add(3 * time.Minute)
	rec.Status, rec.FinishedAt = StatusCompleted, &end
	rec.Result = &pipeline.TrainingResult{ModelVersion: 3,
		Metrics:   metrics.TestSummary{TestRMSE: 10.5, NaiveRMSE: 11},
		Efficacy:  metrics.Efficacy{Overall: metrics.Comparison{MASE: 0.93, DMPValue: 0.04}},
		Promotion: pipeline.Promotion{Promoted: true}}
	if err := Write(ctx, s, rec); err != nil {
		t.Fatal(err)
	}
	rows = readIndex(t, s)
	if len(rows) != 2 {
		t.Fatalf("%d rows after rewriting a run, want 2", len(rows))
	}
	r := rows[1]
	if r.Status != StatusCompleted || r.TestRMSE == nil || *r.TestRMSE != 10.5 || *r.NaiveRMSE != 11 || *r.MASE != 0.93 ||
		*r.DMP != 0.04 || !r.Promoted || r.Version != 3 || r.Duration() != 3*time.Minute {
		t.Errorf("finished row %+v", r)
	}
	// One object per ticker.
	keys, err := IndexKeys(ctx, s)
	if err != nil || len(keys) != 2 || keys[0] != "runs-index/AAPL.json" || keys[1] != "runs-index/NFLX.json" {
		t.Errorf("index objects %v, %v", keys, err)
	}
}

// Writers racing on one ticker's index (and on the same runs) lose no
// rows: the compare-and-swap loop retries.
func TestIndexConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s := indexStore(t)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := Record{ID: fmt.Sprintf("train-NFLX-%d-%d", w, i), Ticker: "NFLX", Status: StatusRunning,
					StartedAt: t0.Add(time.Duration(w*each+i) * time.Minute)}
				errs <- Write(ctx, s, r)
				r.Status = StatusCompleted // the same run again: replaces its row
				errs <- Write(ctx, s, r)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rows := readIndex(t, s)
	if len(rows) != writers*each {
		t.Fatalf("%d rows, want %d", len(rows), writers*each)
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if seen[r.ID] || r.Status != StatusCompleted {
			t.Errorf("row %+v: duplicate or not the last write", r)
		}
		seen[r.ID] = true
		if i > 0 && r.StartedAt.After(rows[i-1].StartedAt) {
			t.Errorf("rows not newest first at %d", i)
		}
	}
}

// A store written before the index existed (records, no index) gets it
// rebuilt from the records on the first read; a row a writer put in the
// index is kept over the record the rebuild read.
func TestIndexRebuild(t *testing.T) {
	ctx := context.Background()
	s := indexStore(t)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, tk := range []string{"NFLX", "AAPL", "NFLX", ""} {
		r := Record{ID: fmt.Sprintf("old-%d", i), Ticker: tk, Status: StatusCompleted, StartedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := blob.PutJSON(ctx, s, recordKey(r.ID), r); err != nil { // as before the index
			t.Fatal(err)
		}
	}
	if err := WriteStat(ctx, s, "old-0", "Train-1", Stat{Activity: "Train"}); err != nil {
		t.Fatal(err)
	}
	// A new run written through Write before anything rebuilt: its row is
	// the index's only one for NFLX until the rebuild adds the others.
	if err := Write(ctx, s, Record{ID: "old-2", Ticker: "NFLX", Status: StatusFailed, StartedAt: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rows := readIndex(t, s) // ensures: rebuilds
	var got []string
	for _, r := range rows {
		got = append(got, r.ID+":"+r.Status)
	}
	if want := "old-3:completed old-2:failed old-1:completed old-0:completed"; strings.Join(got, " ") != want {
		t.Fatalf("rebuilt index %q, want %q", strings.Join(got, " "), want)
	}
	if ok, _ := s.Exists(ctx, indexBuiltKey); !ok {
		t.Error("no built marker after the rebuild")
	}
	// Built once: deleting a record's row is not undone by later reads,
	// and an explicit rebuild restores it.
	if err := s.Delete(ctx, IndexKey("AAPL")); err != nil {
		t.Fatal(err)
	}
	if n := len(readIndex(t, s)); n != 3 {
		t.Fatalf("%d rows, want 3 (no rebuild once built)", n)
	}
	n, err := RebuildIndex(ctx, s)
	if err != nil || n != 4 {
		t.Fatalf("rebuild read %d records, %v", n, err)
	}
	if n := len(readIndex(t, s)); n != 4 {
		t.Fatalf("%d rows after the rebuild, want 4", n)
	}
}
