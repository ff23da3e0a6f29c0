package plots

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Look is how SeriesStyled draws one line. The zero Look is a solid line
// of the palette colour for the line's position, as Series draws it.
type Look struct {
	Color  color.Color // nil: the palette colour of the line's position
	Dashed bool        // a dashed line
	Points bool        // a glyph at every value (circle, triangle, square… by position)
	Faint  bool        // lighter and thinner, to sit behind the lines after it
}

// StyledLine is a Line with the Look it is drawn with.
type StyledLine struct {
	Line
	Look Look
}

// SeriesOptions are the extras of a SeriesStyled chart.
type SeriesOptions struct {
	YLabel   string // the y axis label ("" for none)
	ZeroLine bool   // a grey horizontal line at y = 0, kept in view
}

// PaletteColor is the colour Series gives its i-th line, for charts that
// keep one colour per forecaster across differently ordered lines.
func PaletteColor(i int) color.Color { return lineColor(i) }

// SeriesStyled writes a PNG line chart of series over dates like Series,
// each line drawn with its Look in order (later lines on top), with the
// options' y label and zero line.
func SeriesStyled(w io.Writer, title string, dates []time.Time, series []StyledLine, opt SeriesOptions) error {
	p, err := styledPlot(title, dates, series, opt)
	if err != nil {
		return fmt.Errorf("plots: styled series %q: %w", title, err)
	}
	if err := render(w, p); err != nil {
		return fmt.Errorf("plots: styled series %q: %w", title, err)
	}
	return nil
}

func styledPlot(title string, dates []time.Time, series []StyledLine, opt SeriesOptions) (*plot.Plot, error) {
	p, drawn, err := linesPlot(title, dates, series)
	if err != nil {
		return nil, err
	}
	p.Y.Label.Text = opt.YLabel
	if drawn == 0 {
		return nil, errors.New("no finite values to draw")
	}
	if opt.ZeroLine {
		addZeroLine(p)
	}
	useDateAxis(p)
	return p, nil
}

// linesPlot is a plot of the lines over dates, each with its look, and
// how many values it drew (Series and SeriesStyled add the rest).
func linesPlot(title string, dates []time.Time, series []StyledLine) (*plot.Plot, int, error) {
	if len(dates) == 0 {
		return nil, 0, errors.New("no dates")
	}
	if len(series) == 0 {
		return nil, 0, errors.New("no lines")
	}
	p := newPlot(title)
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	drawn := 0
	for i, l := range series {
		if len(l.Values) != len(dates) {
			return nil, 0, fmt.Errorf("line %q has %d values for %d dates", l.Name, len(l.Values), len(dates))
		}
		n, err := addStyledLine(p, dates, l, i)
		if err != nil {
			return nil, 0, fmt.Errorf("line %q: %w", l.Name, err)
		}
		drawn += n
	}
	return p, drawn, nil
}

// addStyledLine draws the i-th line's runs of finite values with its look,
// adds its legend entry and returns how many values it drew.
func addStyledLine(p *plot.Plot, dates []time.Time, l StyledLine, i int) (int, error) {
	lineStyle, glyph := lookStyles(l.Look, i)
	drawn := 0
	for _, run := range finiteRuns(l.Values) {
		xys := make(plotter.XYs, 0, run[1]-run[0])
		for j := run[0]; j < run[1]; j++ {
			xys = append(xys, plotter.XY{X: unixX(dates[j]), Y: l.Values[j]})
		}
		drawn += len(xys)
		if len(xys) > 1 {
			line, err := plotter.NewLine(xys)
			if err != nil {
				return 0, err
			}
			line.LineStyle = lineStyle
			p.Add(line)
		}
		if l.Look.Points || len(xys) == 1 {
			s, err := plotter.NewScatter(xys)
			if err != nil {
				return 0, err
			}
			s.GlyphStyle = glyph
			p.Add(s)
		}
	}
	name := l.Name
	if name == "" {
		name = "(unnamed)"
	}
	entry := []plot.Thumbnailer{&plotter.Line{LineStyle: lineStyle}}
	if l.Look.Points {
		entry = append(entry, &plotter.Scatter{GlyphStyle: glyph})
	}
	p.Legend.Add(name, entry...)
	return drawn, nil
}

// lookStyles are the line and glyph styles of the i-th line's look.
func lookStyles(look Look, i int) (draw.LineStyle, draw.GlyphStyle) {
	c := look.Color
	if c == nil {
		c = lineColor(i)
	}
	width := vg.Points(1.2)
	if look.Faint {
		c, width = lighten(c, 0.55), vg.Points(0.8)
	}
	ls := draw.LineStyle{Color: c, Width: width}
	if look.Dashed {
		ls.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	shapes := [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.RingGlyph{}}
	return ls, draw.GlyphStyle{Color: c, Radius: vg.Points(2), Shape: shapes[i%len(shapes)]}
}

// lighten blends c towards white by the fraction f (0: c, 1: white).
func lighten(c color.Color, f float64) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8(float64(v>>8) + (255-float64(v>>8))*f) }
	return color.RGBA{R: mix(r), G: mix(g), B: mix(b), A: 255}
}

// addZeroLine draws a grey horizontal line at y = 0 across the chart and
// widens the y range to include it.
func addZeroLine(p *plot.Plot) {
	p.Y.Min, p.Y.Max = min(p.Y.Min, 0), max(p.Y.Max, 0)
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.LineStyle = draw.LineStyle{Color: color.RGBA{R: 90, G: 90, B: 90, A: 255}, Width: vg.Points(1)}
	p.Add(zero)
}
