package plots

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSeriesDrawsLinesAndRedMarks(t *testing.T) {
	dates := days(60)
	open, close := wave(60), wave(60)
	for i := range close {
		close[i] += 5
	}
	open[10], open[11], close[30] = math.NaN(), math.NaN(), math.NaN()
	open[40] = math.Inf(1)
	marks := []Mark{
		{Date: dates[20], Value: 140, Label: "spike"},
		{Date: dates[45], Value: math.NaN(), Label: "skipped"},
	}
	var withMarks, without bytes.Buffer
	if err := Series(&withMarks, "NFLX Open/Close", dates, []Line{{"Open", open}, {"Close", close}}, marks); err != nil {
		t.Fatal(err)
	}
	if err := Series(&without, "NFLX Open/Close", dates, []Line{{"Open", open}, {"Close", close}}, nil); err != nil {
		t.Fatal(err)
	}
	if n := redPixels(decodePNG(t, withMarks.Bytes())); n < 20 {
		t.Errorf("chart with a mark has %d red pixels, want the mark drawn", n)
	}
	img := decodePNG(t, without.Bytes())
	if n := redPixels(img); n != 0 {
		t.Errorf("chart without marks has %d red pixels", n)
	}
	if n := coloredPixels(img); n < 500 {
		t.Errorf("chart has %d coloured pixels, want two lines", n)
	}
}

func TestSeriesSingleDateAndLoneValues(t *testing.T) {
	var buf bytes.Buffer
	if err := Series(&buf, "one day", days(1), []Line{{"Open", []float64{101}}}, nil); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, buf.Bytes())
	buf.Reset()
	// Only isolated finite values: drawn as dots, not an error.
	vs := []float64{1, math.NaN(), 3, math.NaN(), 5}
	if err := Series(&buf, "dots", days(5), []Line{{"", vs}}, nil); err != nil {
		t.Fatal(err)
	}
	if n := coloredPixels(decodePNG(t, buf.Bytes())); n == 0 {
		t.Error("lone values were not drawn")
	}
}

func TestSeriesRejectsBadInput(t *testing.T) {
	nan := []float64{math.NaN(), math.NaN()}
	for name, tc := range map[string]struct {
		dates []time.Time
		lines []Line
		marks []Mark
		want  string
	}{
		"no dates":      {nil, []Line{{"Open", nil}}, nil, "no dates"},
		"no lines":      {days(2), nil, nil, "no lines"},
		"short line":    {days(3), []Line{{"Open", []float64{1, 2}}}, nil, `line "Open" has 2 values for 3 dates`},
		"all NaN":       {days(2), []Line{{"Open", nan}}, nil, "no finite values"},
		"NaN mark only": {days(2), []Line{{"Open", nan}}, []Mark{{Date: days(1)[0], Value: math.NaN()}}, "no finite values"},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Series(&buf, "bad", tc.dates, tc.lines, tc.marks)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes on error", buf.Len())
			}
		})
	}
}

func TestHistogramSkipsNaN(t *testing.T) {
	vs := wave(200)
	var clean, dirty bytes.Buffer
	if err := Histogram(&clean, "Open", vs, 20); err != nil {
		t.Fatal(err)
	}
	withNaN := append([]float64{math.NaN(), math.Inf(-1)}, vs...)
	if err := Histogram(&dirty, "Open", append(withNaN, math.NaN()), 20); err != nil {
		t.Fatal(err)
	}
	if coloredPixels(decodePNG(t, clean.Bytes())) == 0 {
		t.Error("histogram has no bars")
	}
	decodePNG(t, dirty.Bytes())
	if !bytes.Equal(clean.Bytes(), dirty.Bytes()) {
		t.Error("NaN and Inf values changed the histogram")
	}
}

func TestHistogramRejectsBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		values []float64
		bins   int
	}{
		"empty":    {nil, 10},
		"all NaN":  {[]float64{math.NaN()}, 10},
		"no bins":  {[]float64{1, 2}, 0},
		"neg bins": {[]float64{1, 2}, -3},
	} {
		if err := Histogram(&bytes.Buffer{}, "h", tc.values, tc.bins); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// All values equal is a valid, single-bin histogram.
	var buf bytes.Buffer
	if err := Histogram(&buf, "flat", []float64{5, 5, 5}, 10); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, buf.Bytes())
}

func TestBoxPlots(t *testing.T) {
	groups := []Group{
		{"train", wave(100)},
		{"val", append(wave(20), math.NaN())},
		{"test", []float64{120}},
	}
	var buf bytes.Buffer
	if err := BoxPlots(&buf, "Open per split", groups); err != nil {
		t.Fatal(err)
	}
	if coloredPixels(decodePNG(t, buf.Bytes())) == 0 {
		t.Error("no boxes drawn")
	}
	if err := BoxPlots(&bytes.Buffer{}, "none", nil); err == nil {
		t.Error("no groups accepted")
	}
	err := BoxPlots(&bytes.Buffer{}, "nan", []Group{{"train", wave(3)}, {"val", []float64{math.NaN()}}})
	if err == nil || !strings.Contains(err.Error(), `"val"`) {
		t.Errorf("err = %v, want one naming the all-NaN group", err)
	}
}

func TestBars(t *testing.T) {
	vol := wave(30)
	vol[3] = math.NaN()
	vol[7] = -50 // drawn below zero, not dropped
	var buf bytes.Buffer
	if err := Bars(&buf, "Volume", days(30), vol); err != nil {
		t.Fatal(err)
	}
	if n := coloredPixels(decodePNG(t, buf.Bytes())); n < 300 {
		t.Errorf("%d coloured pixels, want bars", n)
	}
	buf.Reset()
	if err := Bars(&buf, "one", days(1), []float64{1e6}); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, buf.Bytes())
	for name, tc := range map[string]struct {
		dates  []time.Time
		values []float64
	}{
		"empty":    {nil, nil},
		"mismatch": {days(2), []float64{1}},
		"all NaN":  {days(2), []float64{math.NaN(), math.NaN()}},
	} {
		if err := Bars(&bytes.Buffer{}, "bad", tc.dates, tc.values); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestBarsDataRangeIncludesZeroAndWidth(t *testing.T) {
	p, err := barsPlot("v", days(3), []float64{5, math.NaN(), 7})
	if err != nil {
		t.Fatal(err)
	}
	// Dates 2024-01-01 and 01-03: the smallest gap is 2 days.
	day := 86400.0
	x0 := float64(days(1)[0].Unix())
	if p.Y.Min != 0 || p.Y.Max != 7 {
		t.Errorf("y range [%v, %v], want [0, 7]", p.Y.Min, p.Y.Max)
	}
	if math.Abs(p.X.Min-(x0-0.8*day)) > 1 || math.Abs(p.X.Max-(x0+2*day+0.8*day)) > 1 {
		t.Errorf("x range [%v, %v], want bars 1.6 days wide around the dates", p.X.Min, p.X.Max)
	}
}

func TestCurveDrawsLossCurves(t *testing.T) {
	var buf bytes.Buffer
	xs := []float64{1, 2, 3}
	err := Curve(&buf, "loss", "epoch", xs, []Line{{Name: "train", Values: []float64{0.5, 0.3, 0.2}}, {Name: "val", Values: []float64{0.6, math.NaN(), 0.4}}})
	if err != nil {
		t.Fatal(err)
	}
	if img := decodePNG(t, buf.Bytes()); coloredPixels(img) == 0 {
		t.Fatal("curve has no coloured pixels")
	}
	if err := Curve(&buf, "loss", "epoch", xs, []Line{{Name: "x", Values: []float64{1}}}); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
	if err := Curve(&buf, "loss", "epoch", xs, []Line{{Name: "x", Values: []float64{math.NaN(), math.NaN(), math.NaN()}}}); err == nil {
		t.Fatal("all-NaN curve accepted")
	}
}
