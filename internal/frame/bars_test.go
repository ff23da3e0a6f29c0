package frame

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// rowBars returns n rows whose Open is 1..n (other columns derived), with
// the given breaks and lineage.
func rowBars(n int, breaks []int, lineage string) *Bars {
	b := NewBars("TEST", n)
	b.Breaks, b.Lineage = breaks, lineage
	for i := range n {
		v := float64(i + 1)
		b.Date = append(b.Date, time.Date(2020, 1, 6+i, 0, 0, 0, 0, time.UTC))
		b.Open = append(b.Open, v)
		b.High = append(b.High, v+0.5)
		b.Low = append(b.Low, v-0.5)
		b.Close = append(b.Close, v+0.25)
		b.AdjClose = append(b.AdjClose, v+0.2)
		b.Volume = append(b.Volume, 1000*v)
	}
	return b
}

func TestBarsArrowKeepsBreaksAndLineage(t *testing.T) {
	tests := []struct {
		name    string
		breaks  []int
		lineage string
	}{
		{name: "none", breaks: nil, lineage: ""},
		{name: "one", breaks: []int{2}, lineage: `{"from":"raw/LNT.arrow"}`},
		{name: "several", breaks: []int{1, 3, 4}, lineage: `{"step":"clean","missing":"drop","note":"a,b=c; ünï"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			want := rowBars(6, tc.breaks, tc.lineage)
			var buf bytes.Buffer
			if err := WriteBars(&buf, want, mem); err != nil {
				t.Fatal(err)
			}
			got, err := ReadBars(bytes.NewReader(buf.Bytes()), mem)
			if err != nil {
				t.Fatal(err)
			}
			assertBarsEqual(t, got, want)
			if !slices.Equal(got.Breaks, tc.breaks) {
				t.Errorf("breaks = %v, want %v", got.Breaks, tc.breaks)
			}
			if got.Lineage != tc.lineage {
				t.Errorf("lineage = %q, want %q", got.Lineage, tc.lineage)
			}
		})
	}
}

func TestSliceKeepsOnlyInteriorBreaksRebased(t *testing.T) {
	b := rowBars(10, []int{2, 5, 8}, `{"x":1}`)
	tests := []struct {
		i, j int
		want []int
	}{
		{i: 0, j: 10, want: []int{2, 5, 8}},
		{i: 1, j: 9, want: []int{1, 4, 7}},
		{i: 2, j: 8, want: []int{3}}, // breaks on the edges (2 and 8) are not inside
		{i: 3, j: 5, want: nil},
		{i: 5, j: 6, want: nil},
		{i: 4, j: 4, want: nil},
	}
	for _, tc := range tests {
		s := b.Slice(tc.i, tc.j)
		if !slices.Equal(s.Breaks, tc.want) {
			t.Errorf("Slice(%d, %d).Breaks = %v, want %v", tc.i, tc.j, s.Breaks, tc.want)
		}
		if s.Len() != tc.j-tc.i || s.Lineage != b.Lineage || s.Ticker != b.Ticker {
			t.Errorf("Slice(%d, %d) has %d rows, lineage %q, ticker %q", tc.i, tc.j, s.Len(), s.Lineage, s.Ticker)
		}
		if s.Len() > 0 && s.Open[0] != b.Open[tc.i] {
			t.Errorf("Slice(%d, %d).Open[0] = %v, want %v", tc.i, tc.j, s.Open[0], b.Open[tc.i])
		}
	}
}

func TestSliceCopiesRowsAndBreaks(t *testing.T) {
	b := rowBars(6, []int{3}, "")
	s := b.Slice(0, 6)
	s.Open[0], s.Breaks[0] = -1, 99
	if b.Open[0] != 1 || b.Breaks[0] != 3 {
		t.Fatalf("editing the slice changed the source: open[0] %v, breaks %v", b.Open[0], b.Breaks)
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		breaks []int
		want   [][2]int
	}{
		{name: "no breaks", n: 6, want: [][2]int{{0, 6}}},
		{name: "one break", n: 6, breaks: []int{3}, want: [][2]int{{0, 3}, {3, 6}}},
		{name: "two breaks", n: 6, breaks: []int{1, 5}, want: [][2]int{{0, 1}, {1, 5}, {5, 6}}},
		{name: "break at start", n: 6, breaks: []int{0}, want: [][2]int{{0, 6}}},
		{name: "break at end", n: 6, breaks: []int{6}, want: [][2]int{{0, 6}}},
		{name: "breaks at both edges", n: 6, breaks: []int{0, 2, 6}, want: [][2]int{{0, 2}, {2, 6}}},
		{name: "break past the end", n: 6, breaks: []int{4, 9}, want: [][2]int{{0, 4}, {4, 6}}},
		{name: "empty", n: 0, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rowBars(tc.n, tc.breaks, "").Segments()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Segments() = %v, want %v", got, tc.want)
			}
			// Segments tile [0, n) in order.
			next := 0
			for _, s := range got {
				if s[0] != next || s[1] <= s[0] {
					t.Fatalf("segments %v do not tile [0, %d)", got, tc.n)
				}
				next = s[1]
			}
			if next != tc.n {
				t.Fatalf("segments %v end at %d, want %d", got, next, tc.n)
			}
		})
	}
}
