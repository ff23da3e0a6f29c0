package plots

import (
	"bytes"
	"image/color"
	"math"
	"testing"
)

func TestSeriesStyledDrawsLooksAndZeroLine(t *testing.T) {
	dates := days(60)
	up, down := wave(60), wave(60)
	for i := range down {
		down[i] = -down[i] / 2
	}
	up[7] = math.NaN()
	lines := []StyledLine{
		{Line: Line{"naive", down}, Look: Look{Faint: true, Color: PaletteColor(2)}},
		{Line: Line{"model", up}, Look: Look{Dashed: true, Points: true}},
	}
	var buf bytes.Buffer
	if err := SeriesStyled(&buf, "styled", dates, lines, SeriesOptions{YLabel: "price", ZeroLine: true}); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, buf.Bytes())
	if n := coloredPixels(img); n < 500 {
		t.Errorf("chart has %d coloured pixels, want two lines", n)
	}
	// The zero line: a row that is mostly the line's grey.
	grey := color.RGBA{R: 90, G: 90, B: 90, A: 255}
	best := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		n := 0
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			gr, gg, gb, _ := grey.RGBA()
			if absDiff(r, gr) < 0x1800 && absDiff(g, gg) < 0x1800 && absDiff(b, gb) < 0x1800 {
				n++
			}
		}
		best = max(best, n)
	}
	if best < 300 {
		t.Errorf("no zero line: the greyest row has %d grey pixels", best)
	}
}

func TestSeriesStyledZeroLineKeptInView(t *testing.T) {
	// All values far above zero: the zero line widens the y range.
	p, err := styledPlot("above", days(10), []StyledLine{{Line: Line{"x", wave(10)}}}, SeriesOptions{ZeroLine: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Y.Min > 0 {
		t.Errorf("y range starts at %v, want 0 in view", p.Y.Min)
	}
}

func TestSeriesStyledRejectsBadInput(t *testing.T) {
	var buf bytes.Buffer
	nan := []float64{math.NaN(), math.NaN()}
	for name, lines := range map[string][]StyledLine{
		"no lines":      nil,
		"length":        {{Line: Line{"x", []float64{1}}}},
		"nothing drawn": {{Line: Line{"x", nan}}},
	} {
		if err := SeriesStyled(&buf, name, days(2), lines, SeriesOptions{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := SeriesStyled(&buf, "no dates", nil, []StyledLine{{Line: Line{"x", nil}}}, SeriesOptions{}); err == nil {
		t.Error("no dates: accepted")
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
