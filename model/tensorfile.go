package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// A tensor file is: a magic line, a uint32 header length, a JSON header,
// then float32 little-endian blocks in the order the header lists them.
// Weights and checkpoints share this layout.

type blockSpec struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

func writeTensorFile(magic string, header any, names []string, blocks map[string][]float32) ([]byte, error) {
	specs := make([]blockSpec, len(names))
	for i, n := range names {
		specs[i] = blockSpec{Name: n, Len: len(blocks[n])}
	}
	head, err := json.Marshal(struct {
		Header any         `json:"header"`
		Blocks []blockSpec `json:"blocks"`
	}{header, specs})
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	var out bytes.Buffer
	out.WriteString(magic)
	_ = binary.Write(&out, binary.LittleEndian, uint32(len(head)))
	out.Write(head)
	for _, n := range names {
		if err := binary.Write(&out, binary.LittleEndian, blocks[n]); err != nil {
			return nil, fmt.Errorf("encode %s: %w", n, err)
		}
	}
	return out.Bytes(), nil
}

func readTensorFile(data []byte, magic string, header any) ([]string, map[string][]float32, error) {
	r := bytes.NewReader(data)
	got := make([]byte, len(magic))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != magic {
		return nil, nil, fmt.Errorf("not a %q file", magic[:len(magic)-1])
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || int(n) > r.Len() {
		return nil, nil, fmt.Errorf("truncated header")
	}
	head := make([]byte, n)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, nil, fmt.Errorf("read header: %w", err)
	}
	var wrapper struct {
		Header json.RawMessage `json:"header"`
		Blocks []blockSpec     `json:"blocks"`
	}
	if err := json.Unmarshal(head, &wrapper); err != nil {
		return nil, nil, fmt.Errorf("decode header: %w", err)
	}
	if err := json.Unmarshal(wrapper.Header, header); err != nil {
		return nil, nil, fmt.Errorf("decode header: %w", err)
	}
	names := make([]string, len(wrapper.Blocks))
	blocks := make(map[string][]float32, len(wrapper.Blocks))
	for i, b := range wrapper.Blocks {
		if b.Len < 0 || b.Len*4 > r.Len() {
			return nil, nil, fmt.Errorf("block %s: truncated", b.Name)
		}
		vals := make([]float32, b.Len)
		if err := binary.Read(r, binary.LittleEndian, vals); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", b.Name, err)
		}
		names[i] = b.Name
		blocks[b.Name] = vals
	}
	if r.Len() != 0 {
		return nil, nil, fmt.Errorf("%d trailing bytes", r.Len())
	}
	return names, blocks, nil
}
