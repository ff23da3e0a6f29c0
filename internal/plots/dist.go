package plots

import (
	"errors"
	"fmt"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Histogram writes a PNG histogram of the finite values in bins equal bins.
func Histogram(w io.Writer, title string, values []float64, bins int) error {
	p, err := histogramPlot(title, values, bins)
	if err != nil {
		return fmt.Errorf("plots: histogram %q: %w", title, err)
	}
	if err := render(w, p); err != nil {
		return fmt.Errorf("plots: histogram %q: %w", title, err)
	}
	return nil
}

func histogramPlot(title string, values []float64, bins int) (*plot.Plot, error) {
	if bins < 1 {
		return nil, fmt.Errorf("bins = %d, want at least 1", bins)
	}
	vs := finiteValues(values)
	if len(vs) == 0 {
		return nil, fmt.Errorf("no finite values among %d", len(values))
	}
	h, err := plotter.NewHist(plotter.Values(vs), bins)
	if err != nil {
		return nil, err
	}
	h.FillColor = fillColor()
	h.LineStyle.Width = vg.Points(0.5)
	p := newPlot(title)
	p.Y.Label.Text = "count"
	p.Add(plotter.NewGrid(), h)
	return p, nil
}

// BoxPlots writes a PNG with one box plot of finite values per group,
// left to right in the given order.
func BoxPlots(w io.Writer, title string, groups []Group) error {
	p, err := boxPlot(title, groups)
	if err != nil {
		return fmt.Errorf("plots: box plots %q: %w", title, err)
	}
	if err := render(w, p); err != nil {
		return fmt.Errorf("plots: box plots %q: %w", title, err)
	}
	return nil
}

func boxPlot(title string, groups []Group) (*plot.Plot, error) {
	if len(groups) == 0 {
		return nil, errors.New("no groups")
	}
	p := newPlot(title)
	p.Add(plotter.NewGrid())
	names := make([]string, len(groups))
	for i, g := range groups {
		vs := finiteValues(g.Values)
		if len(vs) == 0 {
			return nil, fmt.Errorf("group %q has no finite values", g.Name)
		}
		b, err := plotter.NewBoxPlot(vg.Points(40), float64(i), plotter.Values(vs))
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", g.Name, err)
		}
		b.FillColor = lineColor(i)
		p.Add(b)
		names[i] = g.Name
	}
	p.NominalX(names...)
	// Half a slot of room on each side, so the outer boxes are not cut.
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	return p, nil
}
