package model

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/finsight/finsight/model/arch"
	"github.com/sugarme/gotch"
)

func trainedWeights(t *testing.T, cfg arch.Config, o FitOptions) ([]byte, FitResult) {
	t.Helper()
	m, err := New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	res, err := m.Fit(context.Background(), sineWindows(300, 10, 0), sineWindows(60, 10, 2), o)
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.MarshalWeights()
	if err != nil {
		t.Fatal(err)
	}
	return w, res
}

var smallCfg = arch.Config{Features: 1, Lookback: 10, Layers: 2, Units: 16, Dropout: 0.2, Seed: 5}

func TestSameSeedSameTrainedWeights(t *testing.T) {
	o := FitOptions{TrainParams: TrainParams{Epochs: 2, BatchSize: 32, LearningRate: 0.01, ClipNorm: 1}}
	a, _ := trainedWeights(t, smallCfg, o)
	b, _ := trainedWeights(t, smallCfg, o)
	if string(a) != string(b) {
		t.Fatal("same seed and data gave different trained weights (dropout included)")
	}
	other := smallCfg
	other.Seed = 6
	c, _ := trainedWeights(t, other, o)
	if string(a) == string(c) {
		t.Fatal("a different seed gave the same weights")
	}
}

func TestResumeFromCheckpointEqualsUninterruptedRun(t *testing.T) {
	params := TrainParams{Epochs: 4, BatchSize: 32, LearningRate: 0.01, ClipNorm: 1, LRDecay: 0.9}
	straight, _ := trainedWeights(t, smallCfg, FitOptions{TrainParams: params})

	// Run 1: stop after epoch 2 (as a crash would), keeping the checkpoint bytes.
	var saved []byte
	stop := errors.New("crash")
	m, err := New(smallCfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Fit(context.Background(), sineWindows(300, 10, 0), sineWindows(60, 10, 2), FitOptions{TrainParams: params,
		OnEpoch: func(c *Checkpoint) error {
			b, err := c.Marshal(m.ParamNames())
			if err != nil {
				return err
			}
			saved = b
			if c.Epoch == 2 {
				return stop
			}
			return nil
		}})
	m.Close()
	if !errors.Is(err, stop) {
		t.Fatalf("first run: %v", err)
	}
	// Run 2: a fresh model (new process) resumes from the checkpoint.
	ckpt, err := UnmarshalCheckpoint(saved)
	if err != nil {
		t.Fatal(err)
	}
	if ckpt.Epoch != 2 || len(ckpt.Curve) != 2 {
		t.Fatalf("checkpoint at epoch %d with %d curve points", ckpt.Epoch, len(ckpt.Curve))
	}
	ran := 0
	resumed, res := trainedWeights(t, smallCfg, FitOptions{TrainParams: params, Resume: ckpt,
		OnEpoch: func(*Checkpoint) error { ran++; return nil }})
	if ran != 2 || len(res.Curve) != 4 {
		t.Fatalf("resumed run trained %d epochs, curve has %d; want 2 and 4", ran, len(res.Curve))
	}
	if string(resumed) != string(straight) {
		t.Fatal("resuming from the epoch-2 checkpoint did not reproduce the uninterrupted run's weights")
	}
}

func TestEarlyStoppingRestoresBestWeights(t *testing.T) {
	cfg := arch.Config{Features: 1, Lookback: 10, Layers: 1, Units: 8, Seed: 3}
	m, err := New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// Validation on a different regime (amplitude ×3) stops improving fast.
	val := sineWindows(60, 10, 0)
	for i := range val.X {
		val.X[i] *= 3
	}
	for i := range val.Y {
		val.Y[i] *= 3
	}
	res, err := m.Fit(context.Background(), sineWindows(300, 10, 0), val,
		FitOptions{TrainParams: TrainParams{Epochs: 40, BatchSize: 16, LearningRate: 0.05, Patience: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.StoppedEarly || len(res.Curve) >= 40 {
		t.Fatalf("did not stop early: %d epochs", len(res.Curve))
	}
	best := math.Inf(1)
	for _, e := range res.Curve {
		best = math.Min(best, e.ValLoss)
	}
	if res.Curve[res.BestEpoch-1].ValLoss != best {
		t.Fatalf("best epoch %d is not the lowest validation loss", res.BestEpoch)
	}
	now, err := m.Loss(val)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(now-best) > 1e-6 {
		t.Fatalf("weights after training score %v, best epoch scored %v: best weights not restored", now, best)
	}
}

func TestCancelStopsWithinOneBatch(t *testing.T) {
	m, err := New(smallCfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	_, err = m.Fit(ctx, sineWindows(300, 10, 0), Dataset{}, FitOptions{TrainParams: TrainParams{Epochs: 5, BatchSize: 10, LearningRate: 0.01},
		OnBatch: func(p Progress) error {
			batches++
			if p.Epoch == 1 && p.Batch == 3 {
				cancel()
			}
			return nil
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if batches != 3 {
		t.Fatalf("%d batches ran, want training to stop right after batch 3", batches)
	}
}

func TestClippingBoundsTheGradientNorm(t *testing.T) {
	cfg := arch.Config{Features: 1, Lookback: 10, Layers: 1, Units: 8, Seed: 3}
	m, err := New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	big := sineWindows(100, 10, 0)
	for i := range big.Y {
		big.Y[i] *= 1000 // huge errors, huge gradients
	}
	res, err := m.Fit(context.Background(), big, Dataset{}, FitOptions{TrainParams: TrainParams{Epochs: 1, BatchSize: 20, LearningRate: 0.001, ClipNorm: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Curve[0].GradNorm <= 0.5 {
		t.Fatalf("mean pre-clip gradient norm %v: the test data should produce norms above the clip", res.Curve[0].GradNorm)
	}
}

// BenchmarkPredictOneWindow is the API's unit of work: one 50-day window
// through the default 2×LSTM(64) (go test -run - -bench PredictOne ./model).
func BenchmarkPredictOneWindow(b *testing.B) {
	m, err := New(arch.Config{Features: 1, Lookback: 50, Layers: 2, Units: 64, Seed: 1}, gotch.CPU)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	x := make([]float32, 50)
	for i := range x {
		x[i] = float32(i%7) * 0.1
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStopMidEpochCheckpointsAndResumesAtTheNextBatch(t *testing.T) {
	cfg := smallCfg
	cfg.Dropout = 0 // no dropout stream: the resumed run must match bit for bit
	params := TrainParams{Epochs: 3, BatchSize: 32, LearningRate: 0.01, ClipNorm: 1}
	straight, _ := trainedWeights(t, cfg, FitOptions{TrainParams: params})

	m, err := New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var saved []byte
	_, err = m.Fit(context.Background(), sineWindows(300, 10, 0), sineWindows(60, 10, 2), FitOptions{TrainParams: params,
		Stop: stop,
		OnBatch: func(p Progress) error {
			if p.Epoch == 2 && p.Batch == 4 {
				close(stop) // the worker is told to shut down
			}
			return nil
		},
		OnStop: func(c *Checkpoint) error {
			saved, err = c.Marshal(m.ParamNames())
			return err
		}})
	m.Close()
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("Fit after Stop closed returned %v, want ErrStopped", err)
	}
	ckpt, err := UnmarshalCheckpoint(saved)
	if err != nil {
		t.Fatalf("no usable checkpoint at the stop: %v", err)
	}
	if ckpt.Epoch != 1 || ckpt.Batch != 4 {
		t.Fatalf("stop checkpoint at epoch %d batch %d, want epoch 1 done and 4 batches of epoch 2", ckpt.Epoch, ckpt.Batch)
	}
	resumed, res := trainedWeights(t, cfg, FitOptions{TrainParams: params, Resume: ckpt})
	if len(res.Curve) != 3 {
		t.Fatalf("resumed curve has %d epochs, want 3", len(res.Curve))
	}
	if string(resumed) != string(straight) {
		t.Fatal("resuming mid-epoch did not reproduce the uninterrupted run's weights")
	}
}
