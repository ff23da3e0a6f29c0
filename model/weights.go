package model

import (
	"fmt"

	"github.com/finsight/finsight/model/arch"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// weightsMagic starts every weights file; the version after it changes when
// the layout does.
const weightsMagic = "FINSIGHT-LSTM-WEIGHTS/2\n"

type weightsHeader struct {
	Config arch.Config `json:"config"`
	Shapes [][]int64   `json:"shapes"`
}

// values copies every parameter to Go memory, by name.
func (m *LSTM) values() (map[string][]float32, error) {
	return m.readFlat(m.all)
}

// readFlat copies a flat tensor shaped like the parameters (the weights or
// an optimizer moment) to Go memory, by parameter name.
func (m *LSTM) readFlat(t *ts.Tensor) (map[string][]float32, error) {
	vals, err := floats(t, m.total, m.device)
	if err != nil {
		return nil, fmt.Errorf("read parameters: %w", err)
	}
	return m.split(vals), nil
}

// MarshalWeights writes the config and every parameter (float32, little
// endian) in a fixed order, so the same weights give the same bytes.
func (m *LSTM) MarshalWeights() ([]byte, error) {
	vals, err := m.values()
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	b, err := writeTensorFile(weightsMagic, weightsHeader{Config: m.cfg, Shapes: m.shapes}, m.names, vals)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	return b, nil
}

// Load rebuilds a model from MarshalWeights bytes. want is the architecture
// the caller expects; a file saved for another one fails with a clear error.
func Load(data []byte, want arch.Config, device gotch.Device) (*LSTM, error) {
	h, init, err := decodeWeights(data)
	if err != nil {
		return nil, err
	}
	if !h.Config.SameShape(want) {
		return nil, fmt.Errorf("weights are for %s, expected %s", h.Config.Describe(), want.Describe())
	}
	return build(h.Config, device, init)
}

// LoadAny rebuilds a model with the architecture recorded in the weights.
func LoadAny(data []byte, device gotch.Device) (*LSTM, error) {
	h, init, err := decodeWeights(data)
	if err != nil {
		return nil, err
	}
	return build(h.Config, device, init)
}

func decodeWeights(data []byte) (weightsHeader, map[string][]float32, error) {
	var h weightsHeader
	_, blocks, err := readTensorFile(data, weightsMagic, &h)
	if err != nil {
		return h, nil, fmt.Errorf("weights: %w", err)
	}
	return h, blocks, nil
}

// setValues overwrites every parameter with vals (autograd off).
func (m *LSTM) setValues(vals map[string][]float32) error {
	return m.writeFlat(m.all, vals)
}

// writeFlat overwrites a flat tensor shaped like the parameters.
func (m *LSTM) writeFlat(t *ts.Tensor, vals map[string][]float32) error {
	flat, err := m.join(vals)
	if err != nil {
		return err
	}
	return withoutGrad(func() error {
		src, err := tensorOn(flat, []int64{int64(m.total)}, m.device)
		if err != nil {
			return fmt.Errorf("set parameters: %w", err)
		}
		defer free(src)
		if err := t.Zero_(); err != nil {
			return fmt.Errorf("set parameters: %w", err)
		}
		if err := t.Add_(src); err != nil {
			return fmt.Errorf("set parameters: %w", err)
		}
		return nil
	})
}
