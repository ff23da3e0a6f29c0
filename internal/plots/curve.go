package plots

import (
	"errors"
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve writes a PNG line chart over a numeric x axis (e.g. learning
// curves by epoch); NaN values are skipped.
func Curve(w io.Writer, title, xLabel string, xs []float64, series []Line) error {
	if len(xs) == 0 || len(series) == 0 {
		return fmt.Errorf("plots: curve %q: %w", title, errors.New("no points"))
	}
	p := newPlot(title)
	p.X.Label.Text = xLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	drawn := 0
	for i, l := range series {
		if len(l.Values) != len(xs) {
			return fmt.Errorf("plots: curve %q: line %q has %d values for %d x", title, l.Name, len(l.Values), len(xs))
		}
		xys := make(plotter.XYs, 0, len(xs))
		for j, v := range l.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				xys = append(xys, plotter.XY{X: xs[j], Y: v})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plots: curve %q: %w", title, err)
		}
		line.LineStyle = draw.LineStyle{Color: lineColor(i), Width: vg.Points(1.2)}
		points.Color = lineColor(i)
		p.Add(line, points)
		p.Legend.Add(l.Name, line)
		drawn += len(xys)
	}
	if drawn == 0 {
		return fmt.Errorf("plots: curve %q: no finite values to draw", title)
	}
	return render(w, p)
}
