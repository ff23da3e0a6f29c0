package frame

import (
	"errors"
	"github.com/finsight/finsight/internal/sharedtest"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseCSVYahoo(t *testing.T) {
	in := "Date,Open,High,Low,Close,Adj Close,Volume\n" +
		"2020-01-02,1,2,0.5,1.5,1.4,100\n" +
		"2020-01-03,null,null,null,null,null,null\n" +
		"2020-01-06,1.6,1.7,1.5,1.65,,200\n"
	b, err := ParseCSV(strings.NewReader(in), "AAPL")
	if err != nil {
		t.Fatal(err)
	}
	if b.Ticker != "AAPL" || b.Len() != 3 {
		t.Fatalf("ticker %q len %d", b.Ticker, b.Len())
	}
	if !b.Date[2].Equal(day("2020-01-06")) || b.Date[2].Location() != time.UTC {
		t.Fatalf("date[2] = %v", b.Date[2])
	}
	if b.Open[0] != 1 || b.High[0] != 2 || b.Low[0] != 0.5 || b.Close[0] != 1.5 || b.AdjClose[0] != 1.4 || b.Volume[0] != 100 {
		t.Fatalf("row 0 = %v %v %v %v %v %v", b.Open[0], b.High[0], b.Low[0], b.Close[0], b.AdjClose[0], b.Volume[0])
	}
	for name, col := range map[string][]float64{"open": b.Open, "high": b.High, "low": b.Low, "close": b.Close, "adj": b.AdjClose, "volume": b.Volume} {
		if !math.IsNaN(col[1]) {
			t.Errorf("null %s = %v, want NaN", name, col[1])
		}
	}
	if !math.IsNaN(b.AdjClose[2]) || b.Close[2] != 1.65 {
		t.Errorf("empty adj close = %v (close %v), want NaN", b.AdjClose[2], b.Close[2])
	}
}

func TestParseCSVKaggle(t *testing.T) {
	in := "date,open,high,low,close,volume,Name\n" +
		"2013-02-08,67.7142,68.4014,66.8928,67.8542,158168416,AAPL\n" +
		"2013-02-11,68.0714,69.2771,67.6071,68.5614,,AAPL\n"
	b, err := ParseCSV(strings.NewReader(in), "")
	if err != nil {
		t.Fatal(err)
	}
	if b.Ticker != "AAPL" || b.Len() != 2 {
		t.Fatalf("ticker %q len %d", b.Ticker, b.Len())
	}
	if b.AdjClose[1] != b.Close[1] || b.Close[1] != 68.5614 {
		t.Fatalf("adj close %v, close %v: want adj = close", b.AdjClose[1], b.Close[1])
	}
	if !math.IsNaN(b.Volume[1]) {
		t.Fatalf("empty volume = %v, want NaN", b.Volume[1])
	}
}

func TestParseCSVAnyOrderAndCase(t *testing.T) {
	in := "VOLUME,close,DATE,Low,high,Open,adj close\n5,4,2021-03-04,3,2,1,3.9\n"
	b, err := ParseCSV(strings.NewReader(in), "X")
	if err != nil {
		t.Fatal(err)
	}
	got := []float64{b.Open[0], b.High[0], b.Low[0], b.Close[0], b.AdjClose[0], b.Volume[0]}
	want := []float64{1, 2, 3, 4, 3.9, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row = %v, want %v", got, want)
		}
	}
	if !b.Date[0].Equal(day("2021-03-04")) {
		t.Fatalf("date = %v", b.Date[0])
	}
}

func TestParseCSVErrors(t *testing.T) {
	const yahoo = "Date,Open,High,Low,Close,Adj Close,Volume\n"
	tests := []struct {
		name, in, ticker string
		want             []string // substrings of the error
	}{
		{"empty file", "", "A", []string{"line 1", "empty"}},
		{"header only", yahoo, "A", []string{"line 2", "none"}},
		{"missing column", "Date,Open,High,Low,Adj Close,Volume\n2020-01-01,1,1,1,1,1\n", "A", []string{"line 1", `column "close"`, "--columns close="}},
		{"bad number", yahoo + "2020-01-02,1,1,1,1,1,1\n2020-01-03,1,abc,1,1,1,1\n", "A", []string{"line 3", `"abc"`}},
		{"bad date", yahoo + "2020-01-02,1,1,1,1,1,1\n2020-01-02,1,1,1,1,1,1\n02/01/2020,1,1,1,1,1,1\n", "A", []string{"line 4", `"02/01/2020"`}},
		{"wrong field count", yahoo + "2020-01-02,1,1,1\n", "A", []string{"line 2"}},
		{"other ticker", "date,open,high,low,close,volume,Name\n2020-01-02,1,1,1,1,1,MSFT\n", "AAPL", []string{"line 2", "MSFT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCSV(strings.NewReader(tc.in), tc.ticker)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseCSVRealAAPL(t *testing.T) {
	f, err := os.Open(sharedtest.Path(t, "single", "AAPL.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := ParseCSV(f, "AAPL")
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 10087 {
		t.Fatalf("rows = %d, want 10087", b.Len())
	}
	if !b.Date[0].Equal(day("1980-12-12")) {
		t.Fatalf("first date = %v", b.Date[0])
	}
	i := indexOfDate(b, day("1981-08-10"))
	if i < 0 {
		t.Fatal("1981-08-10 not found")
	}
	if !math.IsNaN(b.Open[i]) {
		t.Fatalf("open on 1981-08-10 = %v, want NaN", b.Open[i])
	}
	if math.IsNaN(b.Open[i-1]) {
		t.Fatalf("open on %v is NaN, want a price", b.Date[i-1])
	}
}

func indexOfDate(b *Bars, d time.Time) int {
	for i, x := range b.Date {
		if x.Equal(d) {
			return i
		}
	}
	return -1
}

func TestSliceCopies(t *testing.T) {
	b, err := ParseCSV(strings.NewReader("date,open,high,low,close,volume\n2020-01-01,1,1,1,1,1\n2020-01-02,2,2,2,2,2\n2020-01-03,3,3,3,3,3\n"), "T")
	if err != nil {
		t.Fatal(err)
	}
	s := b.Slice(1, 3)
	if s.Len() != 2 || s.Open[0] != 2 || !s.Date[1].Equal(day("2020-01-03")) || s.Ticker != "T" {
		t.Fatalf("slice = %+v", s)
	}
	s.Open[0] = 99
	if b.Open[1] != 2 {
		t.Fatal("Slice shares memory with the original")
	}
}

// A semicolon file whose every number reads either way (27.350: 27.35 or
// 27350) is refused with how to choose, and read right once chosen. The
// rows are AAPL's of 2013-02-08 and -11 (sp500_5yr) at three decimals.
func TestReadCSVAmbiguousDecimalIsRefused(t *testing.T) {
	in := "Date;Open;High;Low;Close;Volume\n2013-02-08;67.714;68.401;66.893;67.854;158168416\n2013-02-11;68.071;69.277;67.607;68.561;129029425\n"
	_, _, err := ReadCSV(strings.NewReader(in), CSVOptions{Ticker: "AAPL"})
	var ce *CSVError
	if !errors.As(err, &ce) || ce.Line != 2 || ce.Column != "Open" || !strings.Contains(err.Error(), "--decimal") {
		t.Fatalf("error %v: want line 2, column Open, and how to choose", err)
	}
	b, rep, err := ReadCSV(strings.NewReader(in), CSVOptions{Ticker: "AAPL", Format: CSVFormat{Decimal: "."}})
	if err != nil || b.Open[0] != 67.714 || b.Volume[1] != 129029425 || rep.DecimalComma {
		t.Fatalf("with --decimal .: %v, opens %v", err, b)
	}
	if err := (CSVFormat{Decimal: ";"}).Validate(); err == nil {
		t.Fatal("decimal ; accepted")
	}
}
