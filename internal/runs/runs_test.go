package runs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

func TestWriteReadListRuns(t *testing.T) {
	ctx := context.Background()
	s, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, r := range []Record{
		{ID: "train-A-1", Ticker: "AAPL", Status: StatusCompleted, StartedAt: t0},
		{ID: "train-N-2", Ticker: "NFLX", Status: StatusFailed, StartedAt: t0.Add(time.Hour), Error: "bad data"},
		{ID: "train-N-3", Ticker: "NFLX", Status: StatusRunning, StartedAt: t0.Add(2 * time.Hour),
			Result: &pipeline.TrainingResult{ModelVersion: 2}},
	} {
		if err := Write(ctx, s, r); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	// a stats file must not be mistaken for a run
	if err := WriteStat(ctx, s, "train-N-3", "Train-1-1", Stat{Activity: "Train", StartedAt: t0, PeakRSSMB: 12}); err != nil {
		t.Fatal(err)
	}
	all, err := List(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != "train-N-3" || all[2].ID != "train-A-1" {
		t.Fatalf("list = %v, want 3 runs newest first", ids(all))
	}
	nflx, err := List(ctx, s, "NFLX")
	if err != nil || len(nflx) != 2 {
		t.Fatalf("NFLX runs = %v, %v", ids(nflx), err)
	}
	got, err := Read(ctx, s, "train-N-3")
	if err != nil || got.Result == nil || got.Result.ModelVersion != 2 {
		t.Fatalf("read = %+v, %v", got, err)
	}
	stats, err := ReadStats(ctx, s, "train-N-3")
	if err != nil || len(stats) != 1 || stats[0].PeakRSSMB != 12 {
		t.Fatalf("stats = %+v, %v", stats, err)
	}
	for _, bad := range []string{"nope", "../registry/NFLX", "a/b"} {
		if _, err := Read(ctx, s, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Read(%q) = %v, want ErrNotFound", bad, err)
		}
	}
}

func ids(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
