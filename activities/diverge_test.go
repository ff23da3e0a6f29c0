package activities

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// divergingWindows prepares real windows and multiplies the training
// labels by 1e20: the first batch's squared error overflows float32, so the
// loss is +Inf whatever the seed, as it would be on every retry.
func divergingWindows(t *testing.T, h *harness) steps.Splits {
	t.Helper()
	ctx := context.Background()
	_, _, _, _, win := h.prepared(yahooCSV(120), 5, priceSpec)
	w, err := h.acts.readWindows(ctx, win.Train)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w.Y {
		w.Y[i] = 1e20 + float32(i)*1e18
	}
	if win.Train, err = h.acts.writeWindows(ctx, "diverging-train", w); err != nil {
		t.Fatal(err)
	}
	return win
}

// assertDiverged checks that err is the non-retryable Diverged failure that
// the retry policies list, so the run fails at once instead of being
// retried (same seed, same data) into the same divergence.
func assertDiverged(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("training on exploding labels succeeded")
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != steps.ErrDiverged || !appErr.NonRetryable() {
		t.Fatalf("error %v: want a non-retryable %q application error", err, steps.ErrDiverged)
	}
}

func TestTrainDivergenceIsNotRetried(t *testing.T) {
	h := newHarness(t)
	win := divergingWindows(t, h)
	params := pipeline.ModelParams{Layers: 1, Units: 4, Epochs: 2, BatchSize: 16, LearningRate: 0.5, Seed: 1}
	var tr steps.TrainResult
	assertDiverged(t, h.run(h.acts.Train, steps.TrainInput{RunID: "run-diverge", Windows: win, Params: params}, &tr))
}

func TestTrialDivergenceIsNotRetried(t *testing.T) {
	h := newHarness(t)
	win := divergingWindows(t, h)
	params := pipeline.ModelParams{Layers: 1, Units: 4, Epochs: 2, BatchSize: 16, LearningRate: 0.5, Seed: 1}
	var tr steps.TrialResult
	assertDiverged(t, h.run(h.acts.TrainTrial, steps.TrialInput{Trial: 3, Windows: win, Params: params}, &tr))
}
