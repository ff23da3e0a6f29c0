package synth_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/synth"
)

func write(t *testing.T, o synth.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := synth.WriteCSV(&buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parse(t *testing.T, csv []byte) *frame.Bars {
	t.Helper()
	b, err := frame.ParseCSV(bytes.NewReader(csv), "SYN")
	if err != nil {
		t.Fatalf("synthetic CSV does not parse: %v", err)
	}
	return b
}

func TestWriteCSVIsDeterministicPerSeed(t *testing.T) {
	o := synth.Defaults()
	o.Days = 300
	a, b := write(t, o), write(t, o)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed wrote different bytes")
	}
	o.Seed++
	if c := write(t, o); bytes.Equal(a, c) {
		t.Fatal("another seed wrote the same bytes")
	}
}

func TestWriteCSVYahooHeaderAndOneRowPerDay(t *testing.T) {
	o := synth.Defaults()
	o.Days = 123
	lines := strings.Split(strings.TrimSuffix(string(write(t, o)), "\n"), "\n")
	if lines[0] != "Date,Open,High,Low,Close,Adj Close,Volume" {
		t.Fatalf("header = %q", lines[0])
	}
	if rows := len(lines) - 1; rows != o.Days {
		t.Fatalf("%d rows, want %d", rows, o.Days)
	}
}

func TestWriteCSVDatesAreIncreasingWeekdays(t *testing.T) {
	o := synth.Defaults()
	b := parse(t, write(t, o))
	if b.Len() != o.Days {
		t.Fatalf("parsed %d rows, want %d", b.Len(), o.Days)
	}
	if !b.Date[0].Equal(o.Start) {
		t.Errorf("first date %v, want %v", b.Date[0], o.Start)
	}
	for i, d := range b.Date {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Fatalf("row %d is a %v (%v)", i, wd, d.Format(frame.DateLayout))
		}
		if i > 0 && !d.After(b.Date[i-1]) {
			t.Fatalf("row %d date %v is not after %v", i, d, b.Date[i-1])
		}
	}
}

func TestWriteCSVMissingRowsAreNull(t *testing.T) {
	o := synth.Defaults()
	o.Days, o.Missing = 100, 2
	csv := write(t, o)
	if n := strings.Count(string(csv), ",null,null,null,null,null,null\n"); n != o.Missing {
		t.Fatalf("%d null rows, want %d", n, o.Missing)
	}
	b := parse(t, csv)
	missing := 0
	for i := range b.Open {
		cols := []float64{b.Open[i], b.High[i], b.Low[i], b.Close[i], b.AdjClose[i], b.Volume[i]}
		nans := 0
		for _, v := range cols {
			if math.IsNaN(v) {
				nans++
			}
		}
		switch nans {
		case 0:
		case len(cols):
			missing++
		default:
			t.Fatalf("row %d is partly missing: %v", i, cols)
		}
	}
	if missing != o.Missing {
		t.Fatalf("%d parsed rows all NaN, want %d", missing, o.Missing)
	}
}

func TestWriteCSVPricesAreConsistent(t *testing.T) {
	b := parse(t, write(t, synth.Defaults()))
	checked := 0
	for i := range b.Open {
		if math.IsNaN(b.Open[i]) {
			continue
		}
		o, h, l, c := b.Open[i], b.High[i], b.Low[i], b.Close[i]
		if h < math.Max(o, c) || l > math.Min(o, c) || l <= 0 {
			t.Fatalf("row %d: open %v high %v low %v close %v", i, o, h, l, c)
		}
		if b.AdjClose[i] != c || b.Volume[i] <= 0 {
			t.Fatalf("row %d: adj close %v (close %v), volume %v", i, b.AdjClose[i], c, b.Volume[i])
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no complete rows")
	}
}

func TestWriteCSVFirstOpenIsPrice(t *testing.T) {
	o := synth.Defaults()
	o.Price = 42.5
	if b := parse(t, write(t, o)); b.Open[0] != o.Price {
		t.Fatalf("first open %v, want %v", b.Open[0], o.Price)
	}
}

func TestWriteCSVRejectsBadOptions(t *testing.T) {
	for name, mod := range map[string]func(*synth.Options){
		"one day":        func(o *synth.Options) { o.Days = 1 },
		"zero price":     func(o *synth.Options) { o.Price = 0 },
		"negative price": func(o *synth.Options) { o.Price = -5 },
	} {
		o := synth.Defaults()
		mod(&o)
		var buf bytes.Buffer
		if err := synth.WriteCSV(&buf, o); err == nil {
			t.Errorf("%s: no error", name)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", name, buf.Len())
		}
	}
}
