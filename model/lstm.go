package model

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/finsight/finsight/model/arch"
	"github.com/finsight/finsight/model/cpulstm"
)

// LSTM is a stacked LSTM with a dense head mapping the last hidden state to
// one value. Weights are initialised like PyTorch's nn.LSTM and nn.Linear
// (uniform in ±1/sqrt(fan)) from Config.Seed, not like gotch's nn.NewLSTM
// (Kaiming uniform with fan_in = input width, which for a 1-feature input
// draws input weights in ±2.4 and made first-epoch losses 50× PyTorch's).
//
// All parameters live in one contiguous leaf tensor; each named parameter
// is a view into it. The optimizer, gradient zeroing and clipping then cost
// a handful of LibTorch calls per step instead of a handful per parameter.
type LSTM struct {
	cfg     arch.Config
	device  gotch.Device
	all     *ts.Tensor   // every parameter, flat; the only leaf with a gradient
	views   []*ts.Tensor // one view of all per parameter, in names order
	names   []string     // parameter names in a fixed order, for save/load
	shapes  [][]int64    // their shapes
	offsets []int        // their offsets in all
	total   int
}

type paramSpec struct {
	name  string
	shape []int64
}

// paramSpecs lists the parameters in at::lstm's order (per layer w_ih,
// w_hh, b_ih, b_hh), then the dense head.
func paramSpecs(cfg arch.Config) []paramSpec {
	h := int64(cfg.Units)
	in := int64(cfg.Features)
	var specs []paramSpec
	for l := 0; l < cfg.Layers; l++ {
		if l > 0 {
			in = h
		}
		specs = append(specs,
			paramSpec{fmt.Sprintf("weight_ih_l%d", l), []int64{4 * h, in}},
			paramSpec{fmt.Sprintf("weight_hh_l%d", l), []int64{4 * h, h}},
			paramSpec{fmt.Sprintf("bias_ih_l%d", l), []int64{4 * h}},
			paramSpec{fmt.Sprintf("bias_hh_l%d", l), []int64{4 * h}})
	}
	return append(specs, paramSpec{"head_weight", []int64{1, h}}, paramSpec{"head_bias", []int64{1}})
}

// New builds a freshly initialised model on device.
func New(cfg arch.Config, device gotch.Device) (*LSTM, error) {
	return build(cfg, device, nil)
}

// build creates the parameters, drawing them from Config.Seed unless init
// holds their values (by name).
func build(cfg arch.Config, device gotch.Device, init map[string][]float32) (*LSTM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	m := &LSTM{cfg: cfg, device: device}
	for _, p := range paramSpecs(cfg) {
		m.names = append(m.names, p.name)
		m.shapes = append(m.shapes, p.shape)
		m.offsets = append(m.offsets, m.total)
		m.total += numel(p.shape)
	}
	vals, err := m.initialValues(init)
	if err != nil {
		return nil, err
	}
	if err := m.createTensors(vals); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// initialValues draws every parameter from U(-1/sqrt(units), 1/sqrt(units))
// in order, or takes init's values (checked against this architecture).
func (m *LSTM) initialValues(init map[string][]float32) ([]float32, error) {
	if init != nil {
		return m.join(init)
	}
	rng := rand.New(rand.NewSource(m.cfg.Seed))
	bound := 1 / math.Sqrt(float64(m.cfg.Units))
	vals := make([]float32, m.total)
	for i := range vals {
		vals[i] = float32((rng.Float64()*2 - 1) * bound)
	}
	return vals, nil
}

// createTensors makes the flat leaf and the per-parameter views.
func (m *LSTM) createTensors(vals []float32) error {
	t, err := tensorOn(vals, []int64{int64(m.total)}, m.device)
	if err != nil {
		return fmt.Errorf("init parameters: %w", err)
	}
	m.all, err = t.SetRequiresGrad(true, false)
	free(t)
	if err != nil {
		return fmt.Errorf("init parameters: %w", err)
	}
	for i, name := range m.names {
		n, err := m.all.Narrow(0, int64(m.offsets[i]), int64(numel(m.shapes[i])), false)
		if err != nil {
			return fmt.Errorf("view %s: %w", name, err)
		}
		v, err := n.View(m.shapes[i], true)
		if err != nil {
			return fmt.Errorf("view %s: %w", name, err)
		}
		m.views = append(m.views, v)
	}
	return nil
}

// paramViews makes this forward pass's views of the flat parameters. They
// are made per pass, not once: a view kept across the optimizer's in-place
// updates of its base makes autograd regenerate its history on every use,
// and LibTorch's memory grew by ~0.5 MB a step (1.2 GB over a 45-epoch NFLX
// run) until the views were made fresh.
func (m *LSTM) paramViews() ([]*ts.Tensor, error) {
	views := make([]*ts.Tensor, 0, len(m.names))
	for i, name := range m.names {
		n, err := m.all.Narrow(0, int64(m.offsets[i]), int64(numel(m.shapes[i])), false)
		if err != nil {
			free(views...)
			return nil, fmt.Errorf("view %s: %w", name, err)
		}
		v, err := n.View(m.shapes[i], true)
		if err != nil {
			free(views...)
			return nil, fmt.Errorf("view %s: %w", name, err)
		}
		views = append(views, v)
	}
	return views, nil
}

// split cuts a flat value slice into named parameters.
func (m *LSTM) split(flat []float32) map[string][]float32 {
	out := make(map[string][]float32, len(m.names))
	for i, name := range m.names {
		out[name] = append([]float32(nil), flat[m.offsets[i]:m.offsets[i]+numel(m.shapes[i])]...)
	}
	return out
}

// join packs named parameter values into a flat slice, checking that they
// fit this architecture.
func (m *LSTM) join(vals map[string][]float32) ([]float32, error) {
	flat := make([]float32, m.total)
	for i, name := range m.names {
		v, ok := vals[name]
		if !ok {
			return nil, fmt.Errorf("weights have no tensor %q: saved for another architecture", name)
		}
		if n := numel(m.shapes[i]); len(v) != n {
			return nil, fmt.Errorf("weights tensor %q has %d values, this architecture needs %d (shape %v)", name, len(v), n, m.shapes[i])
		}
		copy(flat[m.offsets[i]:], v)
	}
	return flat, nil
}

// Config returns the architecture of the model.
func (m *LSTM) Config() arch.Config { return m.cfg }

// Device returns where the weights live.
func (m *LSTM) Device() gotch.Device { return m.device }

// Close frees every tensor the model holds.
func (m *LSTM) Close() {
	free(m.views...)
	free(m.all)
	m.views, m.all = nil, nil
}

// forward maps x [batch, lookback, features] to predictions [batch].
// train switches inter-layer dropout on and uses fresh parameter views
// (see paramViews); without autograd the model's own views serve, which
// saves two dozen tensor handles per call (each gotch handle costs a
// 100 kB Go allocation). On CPU the recurrent layers run through the fused
// kernel of package cpulstm; elsewhere through at::lstm.
func (m *LSTM) forward(x *ts.Tensor, batch int64, train bool) (*ts.Tensor, error) {
	views := m.views
	if train {
		fresh, err := m.paramViews()
		if err != nil {
			return nil, err
		}
		defer free(fresh...)
		views = fresh
	}
	var err error
	nl := 4 * m.cfg.Layers
	var last *ts.Tensor
	if m.device == gotch.CPU {
		last, err = m.lastHiddenFused(x, views[:nl], train)
	} else {
		last, err = m.lastHiddenATen(x, views[:nl], batch, train)
	}
	if err != nil {
		return nil, err
	}
	y, err := ts.Linear(last, views[nl], views[nl+1])
	free(last)
	if err != nil {
		return nil, fmt.Errorf("dense head: %w", err)
	}
	flat, err := y.View([]int64{batch}, true)
	if err != nil {
		return nil, fmt.Errorf("flatten head: %w", err)
	}
	return flat, nil
}

// lastHiddenFused runs the layers one by one through cpulstm.Layer
// (time-major), with dropout between layers in training, and returns the
// last step's hidden state of the top layer [batch, units].
func (m *LSTM) lastHiddenFused(x *ts.Tensor, layers []*ts.Tensor, train bool) (*ts.Tensor, error) {
	seq, err := x.Transpose(0, 1, false)
	if err != nil {
		return nil, fmt.Errorf("time-major input: %w", err)
	}
	for l := 0; l < m.cfg.Layers; l++ {
		w := layers[4*l : 4*l+4]
		out, err := cpulstm.Layer(seq, w[0], w[1], w[2], w[3])
		free(seq)
		if err != nil {
			return nil, fmt.Errorf("lstm layer %d: %w", l+1, err)
		}
		seq = out
		if train && m.cfg.Dropout > 0 && l < m.cfg.Layers-1 {
			if seq, err = ts.Dropout(out, m.cfg.Dropout, true); err != nil {
				free(out)
				return nil, fmt.Errorf("dropout after layer %d: %w", l+1, err)
			}
			free(out)
		}
	}
	last, err := seq.Select(0, int64(m.cfg.Lookback-1), true)
	if err != nil {
		return nil, fmt.Errorf("lstm last step: %w", err)
	}
	return last, nil
}

// lastHiddenATen runs all layers through at::lstm (batch-first) and
// returns the last step's hidden state of the top layer [batch, units].
func (m *LSTM) lastHiddenATen(x *ts.Tensor, layers []*ts.Tensor, batch int64, train bool) (*ts.Tensor, error) {
	shape := []int64{int64(m.cfg.Layers), batch, int64(m.cfg.Units)}
	h0, err := ts.Zeros(shape, gotch.Float, m.device)
	if err != nil {
		return nil, fmt.Errorf("lstm h0: %w", err)
	}
	defer free(h0)
	c0, err := ts.Zeros(shape, gotch.Float, m.device)
	if err != nil {
		return nil, fmt.Errorf("lstm c0: %w", err)
	}
	defer free(c0)
	out, hn, cn, err := ts.Lstm(x, []*ts.Tensor{h0, c0}, layers, true, int64(m.cfg.Layers), m.cfg.Dropout, train, false, true)
	if err != nil {
		return nil, fmt.Errorf("lstm: %w", err)
	}
	free(hn, cn)
	last, err := out.Select(1, int64(m.cfg.Lookback-1), true)
	if err != nil {
		return nil, fmt.Errorf("lstm last step: %w", err)
	}
	return last, nil
}

// free releases tensors now instead of waiting for the garbage collector.
// Drop only fails on an already freed tensor, which is not worth a crash.
func free(ts ...*ts.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.Drop()
		}
	}
}

func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// tensorOn copies vals into a new float32 tensor of shape on device.
func tensorOn(vals []float32, shape []int64, device gotch.Device) (*ts.Tensor, error) {
	t, err := ts.NewTensorFromData(vals, shape)
	if err != nil {
		return nil, err
	}
	if device == gotch.CPU {
		return t, nil
	}
	return t.To(device, true)
}

// ParamNames lists the parameters in their fixed order.
func (m *LSTM) ParamNames() []string { return append([]string(nil), m.names...) }
