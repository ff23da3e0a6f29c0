package model

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/finsight/finsight/model/arch"
	"github.com/sugarme/gotch"
)

// referenceForward evaluates the stacked LSTM + dense head in float64 from
// the equations (PyTorch gate order i, f, g, o), independent of LibTorch.
func referenceForward(cfg arch.Config, w map[string][]float32, x []float32, n int) []float64 {
	H := cfg.Units
	out := make([]float64, n)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for s := 0; s < n; s++ {
		// input sequence for layer 0
		seq := make([][]float64, cfg.Lookback)
		for t := range seq {
			seq[t] = make([]float64, cfg.Features)
			for f := range seq[t] {
				seq[t][f] = float64(x[(s*cfg.Lookback+t)*cfg.Features+f])
			}
		}
		for l := 0; l < cfg.Layers; l++ {
			wih := w["weight_ih_l"+itoa(l)]
			whh := w["weight_hh_l"+itoa(l)]
			bih := w["bias_ih_l"+itoa(l)]
			bhh := w["bias_hh_l"+itoa(l)]
			in := len(seq[0])
			h := make([]float64, H)
			c := make([]float64, H)
			next := make([][]float64, len(seq))
			for t, xt := range seq {
				gates := make([]float64, 4*H)
				for g := 0; g < 4*H; g++ {
					v := float64(bih[g]) + float64(bhh[g])
					for k := 0; k < in; k++ {
						v += float64(wih[g*in+k]) * xt[k]
					}
					for k := 0; k < H; k++ {
						v += float64(whh[g*H+k]) * h[k]
					}
					gates[g] = v
				}
				nh := make([]float64, H)
				for j := 0; j < H; j++ {
					i := sig(gates[j])
					f := sig(gates[H+j])
					g := math.Tanh(gates[2*H+j])
					o := sig(gates[3*H+j])
					c[j] = f*c[j] + i*g
					nh[j] = o * math.Tanh(c[j])
				}
				h = nh
				next[t] = nh
			}
			seq = next
		}
		last := seq[len(seq)-1]
		v := float64(w["head_bias"][0])
		for j := 0; j < H; j++ {
			v += float64(w["head_weight"][j]) * last[j]
		}
		out[s] = v
	}
	return out
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestForwardMatchesFloat64Reference(t *testing.T) {
	cfg := arch.Config{Features: 2, Lookback: 7, Layers: 2, Units: 5, Seed: 3}
	m, err := New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n := 4
	x := make([]float32, n*cfg.Lookback*cfg.Features)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.37) * 1.5)
	}
	got, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.MarshalWeights()
	if err != nil {
		t.Fatal(err)
	}
	_, w, err := decodeWeights(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := referenceForward(cfg, w, x, n)
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5 {
			t.Errorf("window %d: gotch %.8f, reference %.8f (|diff| %.2e > 1e-5)", i, got[i], want[i], d)
		}
	}
}

// sineWindows makes windows of a sine wave, label = the next value.
func sineWindows(n, lookback int, phase float64) Dataset {
	d := Dataset{}
	for s := 0; s < n; s++ {
		for t := 0; t < lookback; t++ {
			d.X = append(d.X, float32(math.Sin(phase+float64(s+t)*0.15)))
		}
		d.Y = append(d.Y, float32(math.Sin(phase+float64(s+lookback)*0.15)))
	}
	return d
}

func TestTrainingOnSineLowersLossTenfold(t *testing.T) {
	cfg := arch.Config{Features: 1, Lookback: 20, Layers: 2, Units: 32, Seed: 7}
	m, err := New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	train, val := sineWindows(600, 20, 0), sineWindows(100, 20, 1.3)
	before, err := m.Loss(val)
	if err != nil {
		t.Fatal(err)
	}
	curve, err := m.Fit(context.Background(), train, val, FitOptions{TrainParams: TrainParams{Epochs: 6, BatchSize: 32, LearningRate: 0.01}})
	if err != nil {
		t.Fatal(err)
	}
	after := curve.Curve[len(curve.Curve)-1].ValLoss
	t.Logf("validation MSE before %.4f, after 6 epochs %.5f; first epoch train loss %.4f", before, after, curve.Curve[0].TrainLoss)
	if !(after*10 < before) {
		t.Fatalf("validation loss fell from %.4f to %.4f: less than 10×", before, after)
	}
}

func TestWeightsRoundTripAndArchitectureCheck(t *testing.T) {
	cfg := arch.Config{Features: 1, Lookback: 5, Layers: 1, Units: 4, Seed: 1}
	m, err := New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	raw, err := m.MarshalWeights()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Load(raw, cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	raw2, err := again.MarshalWeights()
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != string(raw2) {
		t.Fatal("weights changed across save/load")
	}
	other := cfg
	other.Units = 8
	if _, err := Load(raw, other, gotch.CPU); err == nil || !strings.Contains(err.Error(), "weights are for 1×LSTM(4)") {
		t.Fatalf("loading into another architecture: err = %v", err)
	}
	if _, err := Load([]byte("junk"), cfg, gotch.CPU); err == nil {
		t.Fatal("junk bytes loaded")
	}
}

func TestSameSeedSameWeights(t *testing.T) {
	cfg := arch.Config{Features: 1, Lookback: 5, Layers: 2, Units: 4, Seed: 42}
	a, _ := New(cfg, gotch.CPU)
	defer a.Close()
	b, _ := New(cfg, gotch.CPU)
	defer b.Close()
	ra, _ := a.MarshalWeights()
	rb, _ := b.MarshalWeights()
	if string(ra) != string(rb) {
		t.Fatal("same seed gave different weights")
	}
}
