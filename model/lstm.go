package model

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// LSTM is a stacked LSTM with a dense head mapping the last hidden state to
// one value. Weights are initialised like PyTorch's nn.LSTM and nn.Linear
// (uniform in ±1/sqrt(fan)) from Config.Seed, not like gotch's nn.NewLSTM
// (Kaiming uniform with fan_in = input width, which for a 1-feature input
// draws input weights in ±2.4 and made first-epoch losses 50× PyTorch's).
type LSTM struct {
	cfg    Config
	device gotch.Device
	vs     *nn.VarStore
	flat   []*ts.Tensor // per layer: w_ih, w_hh, b_ih, b_hh (at::lstm order)
	headW  *ts.Tensor   // [1, units]
	headB  *ts.Tensor   // [1]
	names  []string     // parameter names in a fixed order, for save/load
	params []*ts.Tensor // the parameters in names order
	shapes [][]int64    // their shapes
}

// New builds a freshly initialised model on device.
func New(cfg Config, device gotch.Device) (*LSTM, error) {
	return build(cfg, device, nil)
}

// build creates the parameters, drawing them from Config.Seed unless init
// holds their values (by name).
func build(cfg Config, device gotch.Device, init map[string][]float32) (*LSTM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	m := &LSTM{cfg: cfg, device: device, vs: nn.NewVarStore(device)}
	rng := rand.New(rand.NewSource(cfg.Seed))
	root := m.vs.Root()
	h := int64(cfg.Units)
	bound := 1 / math.Sqrt(float64(cfg.Units))
	in := int64(cfg.Features)
	for l := 0; l < cfg.Layers; l++ {
		if l > 0 {
			in = h
		}
		for _, p := range []struct {
			name  string
			shape []int64
		}{
			{fmt.Sprintf("weight_ih_l%d", l), []int64{4 * h, in}},
			{fmt.Sprintf("weight_hh_l%d", l), []int64{4 * h, h}},
			{fmt.Sprintf("bias_ih_l%d", l), []int64{4 * h}},
			{fmt.Sprintf("bias_hh_l%d", l), []int64{4 * h}},
		} {
			t, err := m.addParam(root, p.name, p.shape, bound, rng, init)
			if err != nil {
				m.Close()
				return nil, err
			}
			m.flat = append(m.flat, t)
		}
	}
	var err error
	if m.headW, err = m.addParam(root, "head_weight", []int64{1, h}, bound, rng, init); err != nil {
		m.Close()
		return nil, err
	}
	if m.headB, err = m.addParam(root, "head_bias", []int64{1}, bound, rng, init); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// addParam registers a trainable parameter drawn from U(-bound, bound), or
// taken from init when init is not nil.
func (m *LSTM) addParam(p *nn.Path, name string, shape []int64, bound float64, rng *rand.Rand, init map[string][]float32) (*ts.Tensor, error) {
	n := numel(shape)
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32((rng.Float64()*2 - 1) * bound)
	}
	if init != nil {
		given, ok := init[name]
		if !ok {
			return nil, fmt.Errorf("weights have no tensor %q: saved for another architecture", name)
		}
		if len(given) != n {
			return nil, fmt.Errorf("weights tensor %q has %d values, this architecture needs %d (shape %v)", name, len(given), n, shape)
		}
		vals = given
	}
	t, err := tensorOn(vals, shape, m.device)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", name, err)
	}
	v, err := p.Add(name, t, true)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	m.names = append(m.names, name)
	m.params = append(m.params, v)
	m.shapes = append(m.shapes, shape)
	return v, nil
}

// Config returns the architecture of the model.
func (m *LSTM) Config() Config { return m.cfg }

// Device returns where the weights live.
func (m *LSTM) Device() gotch.Device { return m.device }

// Close frees every tensor the model holds.
func (m *LSTM) Close() {
	if m.vs != nil {
		m.vs.Destroy()
		m.vs = nil
	}
}

// forward maps x [batch, lookback, features] to predictions [batch].
// train switches inter-layer dropout on.
func (m *LSTM) forward(x *ts.Tensor, batch int64, train bool) (*ts.Tensor, error) {
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
	out, hn, cn, err := ts.Lstm(x, []*ts.Tensor{h0, c0}, m.flat, true, int64(m.cfg.Layers), m.cfg.Dropout, train, false, true)
	if err != nil {
		return nil, fmt.Errorf("lstm: %w", err)
	}
	free(hn, cn)
	last, err := out.Select(1, int64(m.cfg.Lookback-1), true)
	if err != nil {
		return nil, fmt.Errorf("lstm last step: %w", err)
	}
	y, err := ts.Linear(last, m.headW, m.headB)
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
