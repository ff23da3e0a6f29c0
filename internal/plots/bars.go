package plots

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Bars writes a PNG bar chart of values over dates (e.g. daily volume);
// NaN values are skipped.
func Bars(w io.Writer, title string, dates []time.Time, values []float64) error {
	p, err := barsPlot(title, dates, values)
	if err != nil {
		return fmt.Errorf("plots: bars %q: %w", title, err)
	}
	if err := render(w, p); err != nil {
		return fmt.Errorf("plots: bars %q: %w", title, err)
	}
	return nil
}

func barsPlot(title string, dates []time.Time, values []float64) (*plot.Plot, error) {
	if len(dates) == 0 {
		return nil, errors.New("no dates")
	}
	if len(values) != len(dates) {
		return nil, fmt.Errorf("%d values for %d dates", len(values), len(dates))
	}
	bars := &dateBars{Color: fillColor()}
	for i, v := range values {
		if finite(v) {
			bars.XYs = append(bars.XYs, plotter.XY{X: unixX(dates[i]), Y: v})
		}
	}
	if len(bars.XYs) == 0 {
		return nil, fmt.Errorf("no finite values among %d", len(values))
	}
	bars.Width = barWidth(bars.XYs)
	p := newPlot(title)
	p.Add(plotter.NewGrid(), bars)
	p.Y.Tick.Marker = shortNumberTicks{}
	useDateAxis(p)
	return p, nil
}

// barWidth is 80% of the smallest gap between distinct dates (one day
// when there is a single date), in seconds.
func barWidth(xys plotter.XYs) float64 {
	xs := make([]float64, len(xys))
	for i, xy := range xys {
		xs[i] = xy.X
	}
	sort.Float64s(xs)
	gap := math.Inf(1)
	for i := 1; i < len(xs); i++ {
		if d := xs[i] - xs[i-1]; d > 0 && d < gap {
			gap = d
		}
	}
	if math.IsInf(gap, 1) {
		gap = 86400
	}
	return 0.8 * gap
}

// dateBars draws one filled bar from 0 to Y centred on each X.
type dateBars struct {
	XYs   plotter.XYs
	Width float64 // in X units
	Color color.Color
}

// Plot implements plot.Plotter.
func (b *dateBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	zero := trY(0)
	for _, xy := range b.XYs {
		x0, x1 := trX(xy.X-b.Width/2), trX(xy.X+b.Width/2)
		if x1-x0 < vg.Points(0.3) {
			x1 = x0 + vg.Points(0.3)
		}
		y := trY(xy.Y)
		pts := []vg.Point{{X: x0, Y: zero}, {X: x1, Y: zero}, {X: x1, Y: y}, {X: x0, Y: y}}
		c.FillPolygon(b.Color, c.ClipPolygonXY(pts))
	}
}

// DataRange implements plot.DataRanger: every bar, and zero.
func (b *dateBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), 0, 0
	for _, xy := range b.XYs {
		xmin, xmax = math.Min(xmin, xy.X-b.Width/2), math.Max(xmax, xy.X+b.Width/2)
		ymin, ymax = math.Min(ymin, xy.Y), math.Max(ymax, xy.Y)
	}
	return xmin, xmax, ymin, ymax
}
