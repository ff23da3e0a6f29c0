package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/sugarme/gotch"
)

// weightsMagic starts every weights file; the version after it changes when
// the layout does.
const weightsMagic = "FINSIGHT-LSTM-WEIGHTS/1\n"

type weightsHeader struct {
	Config  Config    `json:"config"`
	Names   []string  `json:"names"`
	Shapes  [][]int64 `json:"shapes"`
	Float32 bool      `json:"float32_le"`
}

// MarshalWeights writes the config and every parameter (float32, little
// endian) in a fixed order, so the same weights give the same bytes.
func (m *LSTM) MarshalWeights() ([]byte, error) {
	h := weightsHeader{Config: m.cfg, Float32: true}
	vars := m.vs.Variables()
	var body bytes.Buffer
	for _, name := range m.names {
		t, ok := vars[name]
		if !ok {
			return nil, fmt.Errorf("weights: parameter %s missing from the var store", name)
		}
		shape, err := t.Size()
		if err != nil {
			return nil, fmt.Errorf("weights: size of %s: %w", name, err)
		}
		vals, err := floats(&t, numel(shape), m.device)
		if err != nil {
			return nil, fmt.Errorf("weights: read %s: %w", name, err)
		}
		if err := binary.Write(&body, binary.LittleEndian, vals); err != nil {
			return nil, fmt.Errorf("weights: encode %s: %w", name, err)
		}
		h.Names = append(h.Names, name)
		h.Shapes = append(h.Shapes, shape)
	}
	head, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("weights header: %w", err)
	}
	var out bytes.Buffer
	out.WriteString(weightsMagic)
	_ = binary.Write(&out, binary.LittleEndian, uint32(len(head)))
	out.Write(head)
	out.Write(body.Bytes())
	return out.Bytes(), nil
}

// Load rebuilds a model from MarshalWeights bytes. want is the architecture
// the caller expects; a file saved for another one fails with a clear error.
func Load(data []byte, want Config, device gotch.Device) (*LSTM, error) {
	h, init, err := decodeWeights(data)
	if err != nil {
		return nil, err
	}
	if !sameArchitecture(h.Config, want) {
		return nil, fmt.Errorf("weights are for %s, expected %s", describe(h.Config), describe(want))
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
	r := bytes.NewReader(data)
	magic := make([]byte, len(weightsMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != weightsMagic {
		return h, nil, fmt.Errorf("weights: not a FinSight LSTM weights file")
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || int(n) > r.Len() {
		return h, nil, fmt.Errorf("weights: truncated header")
	}
	head := make([]byte, n)
	if _, err := io.ReadFull(r, head); err != nil {
		return h, nil, fmt.Errorf("weights: read header: %w", err)
	}
	if err := json.Unmarshal(head, &h); err != nil {
		return h, nil, fmt.Errorf("weights: decode header: %w", err)
	}
	if len(h.Names) != len(h.Shapes) {
		return h, nil, fmt.Errorf("weights: %d names for %d shapes", len(h.Names), len(h.Shapes))
	}
	init := make(map[string][]float32, len(h.Names))
	for i, name := range h.Names {
		vals := make([]float32, numel(h.Shapes[i]))
		if err := binary.Read(r, binary.LittleEndian, vals); err != nil {
			return h, nil, fmt.Errorf("weights: read %s: %w", name, err)
		}
		init[name] = vals
	}
	if r.Len() != 0 {
		return h, nil, fmt.Errorf("weights: %d trailing bytes", r.Len())
	}
	return h, init, nil
}

func sameArchitecture(a, b Config) bool {
	return a.Features == b.Features && a.Lookback == b.Lookback && a.Layers == b.Layers && a.Units == b.Units
}

func describe(c Config) string {
	return fmt.Sprintf("%d×LSTM(%d) over %d steps × %d features", c.Layers, c.Units, c.Lookback, c.Features)
}
