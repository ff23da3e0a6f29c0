package model

import (
	"math"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/finsight/finsight/model/arch"
)

// atenPredict is the model's output through LibTorch's own at::lstm and
// linear, with tensors, as Predict computed it before its CPU path.
func atenPredict(t *testing.T, m *LSTM, x []float32, n int) []float32 {
	t.Helper()
	xt, err := tensorOn(x, []int64{int64(n), int64(m.cfg.Lookback), int64(m.cfg.Features)}, m.device)
	if err != nil {
		t.Fatal(err)
	}
	defer free(xt)
	nl := 4 * m.cfg.Layers
	last, err := m.lastHiddenATen(xt, m.views[:nl], int64(n), false)
	if err != nil {
		t.Fatal(err)
	}
	defer free(last)
	y, err := ts.Linear(last, m.views[nl], m.views[nl+1])
	if err != nil {
		t.Fatal(err)
	}
	defer free(y)
	flat, err := y.View([]int64{int64(n)}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer free(flat)
	out, err := floats(flat, n, m.device)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Predict on CPU (one cpulstm.Predict call per chunk) answers what at::lstm
// does, for the served shape and across the 1024-window chunks.
func TestCPUPredictMatchesATen(t *testing.T) {
	for _, tc := range []struct {
		cfg arch.Config
		n   int
	}{
		{arch.Config{Features: 1, Lookback: 50, Layers: 2, Units: 64, Seed: 1}, 1},
		{arch.Config{Features: 1, Lookback: 50, Layers: 2, Units: 64, Seed: 2}, 37},
		{arch.Config{Features: 3, Lookback: 9, Layers: 3, Units: 10, Seed: 3}, 1030},
	} {
		m, err := New(tc.cfg, gotch.CPU)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, tc.n*tc.cfg.Lookback*tc.cfg.Features)
		for i := range x {
			x[i] = float32(math.Sin(float64(i)*0.013) * 1.2)
		}
		got, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		want := atenPredict(t, m, x, tc.n)
		if len(got) != tc.n {
			t.Fatalf("%v: %d outputs for %d windows", tc.cfg, len(got), tc.n)
		}
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*math.Max(1, math.Abs(float64(want[i]))) {
				t.Fatalf("%v window %d: %v, at::lstm %v", tc.cfg, i, got[i], want[i])
			}
		}
		m.Close()
	}
}

func TestPredictOnAClosedModelIsAnError(t *testing.T) {
	m, err := New(arch.Config{Features: 1, Lookback: 5, Layers: 1, Units: 4, Seed: 1}, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := m.Predict(make([]float32, 5)); err == nil {
		t.Fatal("a closed model predicted")
	}
}
