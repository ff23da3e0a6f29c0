package model

import (
	"fmt"
	"runtime"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/finsight/finsight/model/cpulstm"
)

const predictChunk = 1024

// Predict returns one output per window of x ([N][Lookback][Features],
// row-major), with dropout off and no autograd graph.
func (m *LSTM) Predict(x []float32) ([]float32, error) {
	per := m.cfg.Lookback * m.cfg.Features
	if len(x) == 0 || len(x)%per != 0 {
		return nil, fmt.Errorf("predict: %d inputs is not a whole number of %d-value windows", len(x), per)
	}
	if m.all == nil {
		return nil, fmt.Errorf("predict: the model is closed")
	}
	n := len(x) / per
	out := make([]float32, 0, n)
	err := withoutGrad(func() error {
		for start := 0; start < n; start += predictChunk {
			end := min(start+predictChunk, n)
			part, err := m.predictChunk(x[start*per:end*per], end-start)
			if err != nil {
				return err
			}
			out = append(out, part...)
		}
		return nil
	})
	return out, err
}

func (m *LSTM) predictChunk(x []float32, n int) ([]float32, error) {
	if m.device == gotch.CPU {
		// One call, reading x in place: no tensor handle per pass (each
		// costs a 100 kB Go allocation), no matrix product through BLAS.
		out := make([]float32, n)
		nl := 4 * m.cfg.Layers
		if err := cpulstm.Predict(out, x, m.cfg.Lookback, m.cfg.Features, m.views[:nl], m.views[nl], m.views[nl+1]); err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		return out, nil
	}
	xt, err := tensorOn(x, []int64{int64(n), int64(m.cfg.Lookback), int64(m.cfg.Features)}, m.device)
	if err != nil {
		return nil, fmt.Errorf("predict inputs: %w", err)
	}
	defer free(xt)
	y, err := m.forward(xt, int64(n), false)
	if err != nil {
		return nil, err
	}
	defer free(y)
	return floats(y, n, m.device)
}

// Loss is the mean squared error of the model on d, without autograd.
func (m *LSTM) Loss(d Dataset) (float64, error) {
	if d.Len() == 0 {
		return 0, fmt.Errorf("loss of an empty dataset")
	}
	pred, err := m.Predict(d.X)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for i, p := range pred {
		e := float64(p) - float64(d.Y[i])
		sum += e * e
	}
	return sum / float64(len(pred)), nil
}

// floats copies a float32 tensor of n values to Go memory.
func floats(t *ts.Tensor, n int, device gotch.Device) ([]float32, error) {
	cpu := t
	if device != gotch.CPU {
		var err error
		if cpu, err = t.To(gotch.CPU, false); err != nil {
			return nil, fmt.Errorf("copy to cpu: %w", err)
		}
		defer free(cpu)
	}
	out := make([]float32, n)
	if err := cpu.CopyData(out, uint(n)); err != nil {
		return nil, fmt.Errorf("read tensor: %w", err)
	}
	return out, nil
}

// withoutGrad runs fn with autograd off. LibTorch's grad mode is per OS
// thread, so the goroutine is pinned to its thread for the duration. Grad
// mode is switched back on afterwards rather than restored: gotch's
// GradSetEnabled does not report the previous state reliably, and this
// package never runs with grad off outside this function.
func withoutGrad(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, err := ts.GradSetEnabled(false); err != nil {
		return fmt.Errorf("disable grad: %w", err)
	}
	defer func() { _, _ = ts.GradSetEnabled(true) }()
	return fn()
}
