package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/pipeline"
)

// The ETA counts from the first change the starter saw (training began,
// or an epoch finished), not from the state it found first.
func TestETAClockCountsFromTheFirstChangeSeen(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &etaClock{}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		p     pipeline.Progress
		at    int
		eta   time.Duration
		known bool
	}{
		{pipeline.Progress{Stage: "window"}, 0, 0, false},
		{pipeline.Progress{Stage: "train"}, 1, 0, false}, // training began: the anchor
		{pipeline.Progress{Stage: "train", Epoch: 1, Epochs: 10}, 11, 90 * time.Second, true},
		{pipeline.Progress{Stage: "train", Epoch: 2, Epochs: 10}, 21, 80 * time.Second, true},
		{pipeline.Progress{Stage: "train", Epoch: 2, Epochs: 10}, 25, 76 * time.Second, true}, // counting down
		{pipeline.Progress{Stage: "train", Epoch: 1, Epochs: 10}, 30, 0, false},               // began again
		{pipeline.Progress{Stage: "train", Epoch: 2, Epochs: 10}, 35, 0, false},               // the new anchor
		{pipeline.Progress{Stage: "train", Epoch: 4, Epochs: 10}, 45, 30 * time.Second, true},
	}
	for i, s := range steps {
		eta, ok := c.observe(s.p, at(s.at))
		if ok != s.known || eta != s.eta {
			t.Errorf("step %d (%+v at %ds): ETA %s %v, want %s %v", i, s.p, s.at, eta, ok, s.eta, s.known)
		}
	}
	// Found mid-training: no ETA until an epoch finishes while watching.
	c = &etaClock{}
	if _, ok := c.observe(pipeline.Progress{Stage: "train", Epoch: 5, Epochs: 10}, at(0)); ok {
		t.Error("an ETA from the first state seen")
	}
	if _, ok := c.observe(pipeline.Progress{Stage: "train", Epoch: 6, Epochs: 10}, at(7)); ok {
		t.Error("an ETA from the first epoch seen finishing (its start is unknown)")
	}
	if eta, ok := c.observe(pipeline.Progress{Stage: "train", Epoch: 7, Epochs: 10}, at(12)); !ok || eta != 15*time.Second {
		t.Errorf("ETA %s %v, want 15s", eta, ok)
	}
}

func TestDescribeProgress(t *testing.T) {
	for _, tc := range []struct {
		p    pipeline.Progress
		eta  time.Duration
		ok   bool
		want string
	}{
		{pipeline.Progress{}, 0, false, "starting"},
		{pipeline.Progress{Stage: "clean"}, 0, false, "clean"},
		{pipeline.Progress{Stage: "train", Epoch: 3, Epochs: 10, TrainLoss: 0.012345, ValLoss: 0.02}, 83 * time.Second, true,
			"train · epoch 3/10 · loss 0.01235 (val 0.02) · ETA 1m23s"},
		{pipeline.Progress{Stage: "train", Epoch: 3, Epochs: 10}, 0, false, "train · epoch 3/10 · loss 0 (val 0) · ETA -"},
		{pipeline.Progress{Stage: "evaluate", Epoch: 7, Epochs: 10, TrainLoss: 0.5, ValLoss: 0.25}, 0, false,
			"evaluate · epoch 7/10 · loss 0.5 (val 0.25)"},
	} {
		if got := describeProgress(tc.p, tc.eta, tc.ok); got != tc.want {
			t.Errorf("describeProgress(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// Off a terminal, a line per change of step or epoch, nothing for a poll
// that saw no change.
func TestLineViewPrintsChangesOnly(t *testing.T) {
	var buf bytes.Buffer
	v := newProgressView(&buf)
	lv, ok := v.(*lineView)
	if !ok {
		t.Fatalf("a buffer got %T, want lines", v)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lv.now = func() time.Time { now = now.Add(time.Second); return now } // a second per poll
	for _, p := range []pipeline.Progress{
		{Stage: "ingest"}, {Stage: "ingest"}, {Stage: "train"},
		{Stage: "train", Epoch: 1, Epochs: 2, TrainLoss: 0.5, ValLoss: 0.6}, {Stage: "train", Epoch: 1, Epochs: 2, TrainLoss: 0.5, ValLoss: 0.6},
		{Stage: "train", Epoch: 2, Epochs: 2, TrainLoss: 0.25, ValLoss: 0.3}, {Stage: "evaluate", Epoch: 2, Epochs: 2, TrainLoss: 0.25, ValLoss: 0.3},
	} {
		v.update(p)
	}
	v.note("queued (1 of 1 waiting)")
	v.finish("Completed", true)
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	want := []string{"  ingest", "  train", "  train · epoch 1/2 · loss 0.5 (val 0.6) · ETA 1s",
		"  train · epoch 2/2 · loss 0.25 (val 0.3)", "  evaluate · epoch 2/2 · loss 0.25 (val 0.3)", "  queued (1 of 1 waiting)"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", buf.String(), strings.Join(want, "\n"))
	}
}

// The bar (drawn here into a buffer) counts epochs and reaches 100% when
// the run completes; a run that fails leaves it where it was.
func TestBarViewReachesFullWhenTheRunCompletes(t *testing.T) {
	var buf bytes.Buffer
	v := &barView{w: &buf, eta: &etaClock{}}
	v.note("retraining in retrain-NFLX-1")
	v.update(pipeline.Progress{Stage: "ingest"})
	v.update(pipeline.Progress{Stage: "train", Epoch: 1, Epochs: 4, TrainLoss: 0.5, ValLoss: 0.6})
	if out := buf.String(); !strings.Contains(out, " 25% |") || !strings.Contains(out, "train · epoch 1/4") {
		t.Fatalf("after epoch 1 of 4:\n%q", out)
	}
	v.update(pipeline.Progress{Stage: "evaluate", Epoch: 2, Epochs: 4, TrainLoss: 0.4, ValLoss: 0.5}) // stopped early
	v.finish("Completed", true)
	out := buf.String()
	if !strings.HasPrefix(out, "  retraining in retrain-NFLX-1\n") || !strings.Contains(out, "100% |") ||
		!strings.HasSuffix(out, "completed \n") {
		t.Fatalf("the bar did not reach 100%%, completed:\n%q", out)
	}

	buf.Reset()
	v = &barView{w: &buf, eta: &etaClock{}}
	v.update(pipeline.Progress{Stage: "train", Epoch: 1, Epochs: 4})
	v.finish("Failed", false)
	if out := buf.String(); strings.Contains(out, "100%") || !strings.Contains(out, "failed at train · epoch 1/4") {
		t.Fatalf("a failed run:\n%q", out)
	}
	// Nothing was shown and the run failed: no bar at all.
	buf.Reset()
	(&barView{w: &buf, eta: &etaClock{}}).finish("Canceled", false)
	if buf.Len() != 0 {
		t.Fatalf("a bar for a run never seen: %q", buf.String())
	}
}
