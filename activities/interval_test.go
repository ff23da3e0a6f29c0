package activities

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// Evaluate calibrates the intervals on the validation windows (naive's
// half-width is the ⌈(n+1)·level⌉-th smallest |target − last Open| / last
// Open there; the plain band's the same in price units), measures them on
// the test windows, leaves out with a note a level the
// validation split is too short for, and stores nothing for bad levels.
func TestEvaluateCalibratesIntervalsOnValidation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, _, _, sc, win := h.prepared(yahooCSV(240), 10, prep.DefaultTransformSpec())
	var tr steps.TrainResult
	if err := h.run(h.acts.Train, steps.TrainInput{RunID: "run-iv", Windows: win,
		Params: pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 2, BatchSize: 16, LearningRate: 0.01, Seed: 1}}, &tr); err != nil {
		t.Fatal(err)
	}
	in := steps.EvaluateInput{RunID: "run-iv", Weights: tr.Weights, Config: tr.Config, Transform: sc.Transform, Test: win.Test,
		Val: win.Val, Levels: []float64{0.8, 0.9, 0.99}}
	var ev steps.EvaluateResult
	if err := h.run(h.acts.Evaluate, in, &ev); err != nil {
		t.Fatal(err)
	}
	iv := ev.Metrics.Intervals
	val, err := h.acts.readWindows(ctx, win.Val)
	if err != nil {
		t.Fatal(err)
	}
	n := len(val.Target)
	if n < 9 || n >= 99 {
		t.Fatalf("%d validation windows: the test needs 9 ≤ n < 99 (enough for 90%%, too few for 99%%)", n)
	}
	if iv == nil || iv.Scale != metrics.ScaleLastOpen || len(iv.Model) != 2 || len(iv.Naive) != 2 || len(iv.Test) != 2 || len(iv.AbsoluteTest) != 2 {
		t.Fatalf("intervals %+v: want 80%% and 90%% for model and naive, scaled by the last Open, and the plain ones' test results", iv)
	}
	if len(iv.Notes) != 1 || !strings.Contains(iv.Notes[0], "0.99") || !strings.Contains(iv.Notes[0], "needs at least 99") {
		t.Errorf("notes %q: want the 99%% level left out for too few residuals", iv.Notes)
	}
	// naive's validation residuals, relative to the last Open and in price units
	rel, abs := make([]float64, n), make([]float64, n)
	for i := range abs {
		abs[i] = math.Abs(val.Target[i] - val.Last[i])
		rel[i] = abs[i] / val.Last[i]
	}
	sort.Float64s(rel)
	sort.Float64s(abs)
	test, err := h.acts.readWindows(ctx, win.Test)
	if err != nil {
		t.Fatal(err)
	}
	days := len(test.Target)
	for i, level := range []float64{0.8, 0.9} {
		k := int(math.Ceil(float64(n+1)*level - 1e-9))
		if b := iv.Naive[i]; b.Level != level || b.N != n || b.HalfWidth != rel[k-1] {
			t.Errorf("naive band %+v, want level %v, half-width %v (relative residual %d of %d on validation)", b, level, rel[k-1], k, n)
		}
		if b := iv.Model[i]; b.Level != level || b.N != n || !(b.HalfWidth > 0) {
			t.Errorf("model band %+v, want level %v on %d residuals", b, level, n)
		}
		var inRel, inAbs int
		var meanOpen float64
		for j, y := range test.Target {
			if math.Abs(y-test.Last[j]) <= iv.Naive[i].HalfWidth*test.Last[j] {
				inRel++
			}
			if math.Abs(y-test.Last[j]) <= abs[k-1] {
				inAbs++
			}
			meanOpen += test.Last[j] / float64(days)
		}
		if r := iv.Test[i]; r.Level != level || r.NaiveCoverage != float64(inRel)/float64(days) || r.N != days ||
			math.Abs(r.NaiveWidth-2*iv.Naive[i].HalfWidth*meanOpen) > 1e-9*meanOpen {
			t.Errorf("naive test result %+v, want coverage %d/%d, mean width %v", r, inRel, days, 2*iv.Naive[i].HalfWidth*meanOpen)
		}
		if r := iv.AbsoluteTest[i]; r.NaiveCoverage != float64(inAbs)/float64(days) || r.NaiveWidth != 2*abs[k-1] {
			t.Errorf("plain naive test result %+v, want coverage %d/%d, width %v", r, inAbs, days, 2*abs[k-1])
		}
	}

	// Bad levels: refused for good, before the predictions are written.
	in.RunID, in.Levels = "run-bad", []float64{0.8, 1.5}
	err = h.run(h.acts.Evaluate, in, &ev)
	assertAppError(t, err, steps.ErrInvalidParams)
	if rc, err := h.acts.Store.Get(ctx, runs.PredictionsKey("run-bad")); !errors.Is(err, blob.ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("a refused evaluation wrote its predictions (%v)", err)
	}

	// Without validation windows (a caller from before intervals): none.
	in.RunID, in.Levels, in.Val = "run-old", nil, blob.Ref{}
	var old steps.EvaluateResult
	if err := h.run(h.acts.Evaluate, in, &old); err != nil || old.Metrics.Intervals != nil {
		t.Errorf("no validation windows: intervals %+v, error %v", old.Metrics.Intervals, err)
	}
}
