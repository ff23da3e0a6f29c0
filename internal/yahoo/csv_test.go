package yahoo

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

func TestWriteCSVFormat(t *testing.T) {
	b := &frame.Bars{
		Ticker:   "NFLX",
		Date:     []time.Time{day(2024, 1, 2), day(2024, 1, 3)},
		Open:     []float64{486.25, math.NaN()},
		High:     []float64{490, math.NaN()},
		Low:      []float64{0.1, math.NaN()},
		Close:    []float64{485.5, 1e-7},
		AdjClose: []float64{485.5, math.NaN()},
		Volume:   []float64{104790000, math.NaN()},
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, b); err != nil {
		t.Fatal(err)
	}
	want := "Date,Open,High,Low,Close,Adj Close,Volume\n" +
		"2024-01-02,486.25,490,0.1,485.5,485.5,104790000\n" +
		"2024-01-03,null,null,null,0.0000001,null,null\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestWriteCSVRejectsBadBars(t *testing.T) {
	ragged := &frame.Bars{Ticker: "X", Date: []time.Time{day(2024, 1, 2)}, Open: []float64{1}}
	inf := &frame.Bars{
		Ticker: "X", Date: []time.Time{day(2024, 1, 2)},
		Open: []float64{1}, High: []float64{math.Inf(1)}, Low: []float64{1}, Close: []float64{1}, AdjClose: []float64{1}, Volume: []float64{1},
	}
	for name, b := range map[string]*frame.Bars{"nil": nil, "empty": {Ticker: "X"}, "ragged": ragged, "infinite": inf} {
		if err := WriteCSV(&bytes.Buffer{}, b); err == nil {
			t.Errorf("%s bars accepted", name)
		}
	}
}

func TestDownloadRoundTripsThroughCSV(t *testing.T) {
	s := threeDays(t)
	s.open[0] = 1.1564290523529053 // many digits must survive
	s.adj[2] = 474.123456789
	got, err := serve(t, &fakeYahoo{status: http.StatusOK, body: s.json(t)}).Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, got); err != nil {
		t.Fatal(err)
	}
	back, err := frame.ParseCSV(strings.NewReader(buf.String()), "NFLX")
	if err != nil {
		t.Fatalf("ParseCSV of WriteCSV output: %v\n%s", err, buf.String())
	}
	if back.Ticker != got.Ticker || back.Len() != got.Len() {
		t.Fatalf("parsed %q with %d rows, want %q with %d", back.Ticker, back.Len(), got.Ticker, got.Len())
	}
	for i := range got.Date {
		if !back.Date[i].Equal(got.Date[i]) {
			t.Errorf("date[%d] = %v, want %v", i, back.Date[i], got.Date[i])
		}
		pairs := [][2][]float64{{back.Open, got.Open}, {back.High, got.High}, {back.Low, got.Low}, {back.Close, got.Close}, {back.AdjClose, got.AdjClose}, {back.Volume, got.Volume}}
		for c, p := range pairs {
			if !sameFloat(p[0][i], p[1][i]) {
				t.Errorf("column %d row %d = %v, want %v", c, i, p[0][i], p[1][i])
			}
		}
	}
}
