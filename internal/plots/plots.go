// Package plots renders FinSight's charts as PNG images with gonum/plot:
// price lines over dates with anomaly marks, histograms, box plots and
// volume bars, plus the standard sets of a run's report.
//
// Every image is 8in × 4in at 96 DPI (768 × 384 pixels). NaN and infinite
// values are skipped; input with nothing left to draw is an error.
package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Image size: 8in × 4in at dpi dots per inch.
const (
	width  = 8 * vg.Inch
	height = 4 * vg.Inch
	dpi    = vgimg.DefaultDPI
)

// Line is one named series over the chart's dates; NaN is a gap.
type Line struct {
	Name   string
	Values []float64
}

// Mark is a labelled point drawn in red over a Series chart (an anomaly).
type Mark struct {
	Date  time.Time
	Value float64
	Label string
}

// Group is one box of a BoxPlots chart.
type Group struct {
	Name   string
	Values []float64
}

// markColor is the colour of Marks.
func markColor() color.Color { return color.RGBA{R: 214, G: 39, B: 40, A: 255} }

// fillColor is the colour of histogram and volume bars.
func fillColor() color.Color { return color.RGBA{R: 31, G: 119, B: 180, A: 200} }

// lineColor is the i-th Line's colour, cycling over a palette without red.
func lineColor(i int) color.Color {
	palette := [...]color.RGBA{
		{R: 31, G: 119, B: 180, A: 255},  // blue
		{R: 255, G: 127, B: 14, A: 255},  // orange
		{R: 44, G: 160, B: 44, A: 255},   // green
		{R: 148, G: 103, B: 189, A: 255}, // purple
		{R: 140, G: 86, B: 75, A: 255},   // brown
		{R: 127, G: 127, B: 127, A: 255}, // grey
	}
	return palette[i%len(palette)]
}

// newPlot returns an empty plot titled title, its y axis labelled with
// as many digits as tell the ticks apart (shortNumberTicks).
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Tick.Marker = shortNumberTicks{}
	return p
}

// render draws p as a PNG of the standard size into w. gonum/plot panics
// on some inputs; a panic becomes an error.
func render(w io.Writer, p *plot.Plot) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("draw %q: %v", p.Title.Text, r)
		}
	}()
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))}
	p.Draw(draw.New(c))
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("write png %q: %w", p.Title.Text, err)
	}
	return nil
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finiteValues returns the finite values of vs.
func finiteValues(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if finite(v) {
			out = append(out, v)
		}
	}
	return out
}

// unixX is a date's position on a time axis (seconds since 1970, UTC).
func unixX(d time.Time) float64 { return float64(d.Unix()) }
