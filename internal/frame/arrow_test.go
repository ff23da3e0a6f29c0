package frame

import (
	"bytes"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// onlyReader hides every method but Read, forcing the buffering path.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestBarsArrowRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := "Date,Open,High,Low,Close,Adj Close,Volume\n" +
		"1981-08-07,0.1,0.2,0.05,0.15,0.12,1000\n" +
		"1981-08-10,null,null,null,null,null,null\n" +
		"1981-08-11,0.3,,0.25,0.28,0.2,3000\n"
	want, err := ParseCSV(strings.NewReader(in), "AAPL")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteBars(&buf, want, mem); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{
		"ReaderAt": bytes.NewReader(buf.Bytes()),
		"Reader":   onlyReader{bytes.NewReader(buf.Bytes())},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ReadBars(r, mem)
			if err != nil {
				t.Fatal(err)
			}
			assertBarsEqual(t, got, want)
		})
	}
}

func assertBarsEqual(t *testing.T, got, want *Bars) {
	t.Helper()
	if got.Ticker != want.Ticker || got.Len() != want.Len() {
		t.Fatalf("got ticker %q len %d, want %q len %d", got.Ticker, got.Len(), want.Ticker, want.Len())
	}
	for i := range want.Date {
		if !got.Date[i].Equal(want.Date[i]) || got.Date[i].Location() != time.UTC {
			t.Errorf("date[%d] = %v, want %v UTC", i, got.Date[i], want.Date[i])
		}
	}
	gc, wc := got.columns(), want.columns()
	for c := range wc {
		for i, w := range *wc[c].values {
			if g := (*gc[c].values)[i]; !sameFloat(g, w) {
				t.Errorf("%s[%d] = %v, want %v", wc[c].name, i, g, w)
			}
		}
	}
}

func TestWriteBarsRejectsRaggedColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBars("X", 1)
	b.Date = append(b.Date, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	b.Open = append(b.Open, 1)
	if err := WriteBars(io.Discard, b, mem); err == nil {
		t.Fatal("WriteBars accepted columns of different lengths")
	}
}

func TestReadBarsRejectsGarbage(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	if _, err := ReadBars(strings.NewReader("not an arrow file"), mem); err == nil {
		t.Fatal("ReadBars accepted garbage")
	}
}

func sampleWindows() *Windows {
	const n, lookback, features = 3, 4, 2
	w := &Windows{Lookback: lookback, Features: features}
	for i := range n * lookback * features {
		w.X = append(w.X, float32(i)/10)
	}
	w.X[5] = float32(math.NaN())
	for i := range n {
		w.Y = append(w.Y, float32(i)-0.5)
		w.TargetDate = append(w.TargetDate, time.Date(2020, 1, 10+i, 0, 0, 0, 0, time.UTC))
		w.Last = append(w.Last, 100+float64(i))
		w.Target = append(w.Target, 101+float64(i))
	}
	w.Last[1] = math.NaN()
	return w
}

func TestWindowsArrowRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := sampleWindows()
	var buf bytes.Buffer
	if err := WriteWindows(&buf, want, mem); err != nil {
		t.Fatal(err)
	}
	got, err := ReadWindows(onlyReader{&buf}, mem)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lookback != want.Lookback || got.Features != want.Features || got.Len() != want.Len() {
		t.Fatalf("got lookback %d features %d len %d", got.Lookback, got.Features, got.Len())
	}
	for i := range want.X {
		if !sameFloat(float64(got.X[i]), float64(want.X[i])) {
			t.Fatalf("x[%d] = %v, want %v", i, got.X[i], want.X[i])
		}
	}
	for i := range want.Y {
		if got.Y[i] != want.Y[i] || !got.TargetDate[i].Equal(want.TargetDate[i]) ||
			!sameFloat(got.Last[i], want.Last[i]) || got.Target[i] != want.Target[i] {
			t.Fatalf("row %d = (%v %v %v %v), want (%v %v %v %v)", i,
				got.Y[i], got.TargetDate[i], got.Last[i], got.Target[i],
				want.Y[i], want.TargetDate[i], want.Last[i], want.Target[i])
		}
	}
}

func TestWriteWindowsValidates(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := sampleWindows()
	w.X = w.X[:len(w.X)-1]
	if err := WriteWindows(io.Discard, w, mem); err == nil {
		t.Fatal("WriteWindows accepted a short X")
	}
}
