package frame

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// arrowSeeds are valid bars, windows and predictions files, written by the
// package's own writers, for FuzzReadArrow to corrupt.
func arrowSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	mem := memory.NewGoAllocator()
	day := func(i int) time.Time { return time.Date(2020, 1, 2+i, 0, 0, 0, 0, time.UTC) }
	bars := NewBars("NFLX", 3)
	for i := range 3 {
		bars.Date = append(bars.Date, day(i))
		for _, c := range bars.columns() {
			*c.values = append(*c.values, 10+float64(i))
		}
	}
	bars.Close[1] = math.NaN() // a null
	bars.Breaks, bars.Lineage = []int{2}, `{"run_id":"r1"}`
	win := &Windows{Lookback: 2, Features: 2, X: []float32{1, 2, 3, 4, 5, 6, 7, 8}, Y: []float32{0.5, 0.25},
		TargetDate: []time.Time{day(3), day(4)}, Last: []float64{10, 11}, Target: []float64{11, 12}}
	pred := &Predictions{Date: []time.Time{day(3), day(4)}, Actual: []float64{11, 12}, Predicted: []float64{11.5, 11.8}, Naive: []float64{10, 11}}
	var out [][]byte
	for _, write := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return WriteBars(b, bars, mem) },
		func(b *bytes.Buffer) error { return WriteBars(b, NewBars("EMPTY", 0), mem) },
		func(b *bytes.Buffer) error { return WriteWindows(b, win, mem) },
		func(b *bytes.Buffer) error { return WritePredictions(b, pred, mem) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			tb.Fatalf("write seed: %v", err)
		}
		out = append(out, b.Bytes())
	}
	return out
}

// FuzzReadArrow gives corrupted Arrow IPC files to ReadBars, ReadWindows
// and ReadPredictions. Each must return what it read or an error, never
// panic, and release every buffer it allocated (a checked allocator),
// except after a panic inside Arrow, which it returns as errCorruptIPC.
func FuzzReadArrow(f *testing.F) {
	for _, s := range arrowSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, read := range map[string]func(memory.Allocator) (int, error){
			"bars": func(mem memory.Allocator) (int, error) {
				b, err := ReadBars(bytes.NewReader(data), mem)
				if err == nil {
					return b.Len(), b.validate()
				}
				return 0, err
			},
			"windows": func(mem memory.Allocator) (int, error) {
				w, err := ReadWindows(bytes.NewReader(data), mem)
				if err == nil {
					return w.Len(), w.validate()
				}
				return 0, err
			},
			"predictions": func(mem memory.Allocator) (int, error) {
				p, err := ReadPredictions(bytes.NewReader(data), mem)
				if err == nil {
					for _, c := range p.cols() {
						if len(*c) != p.Len() {
							t.Fatalf("predictions: a column has %d values for %d dates", len(*c), p.Len())
						}
					}
					return p.Len(), nil
				}
				return 0, err
			},
		} {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			n, err := read(mem)
			if err != nil && n != 0 {
				t.Fatalf("%s: %d rows with error %v", name, n, err)
			}
			if !errors.Is(err, errCorruptIPC) { // after a panic in Arrow, its buffers are the GC's
				mem.AssertSize(t, 0)
			}
		}
	})
}
