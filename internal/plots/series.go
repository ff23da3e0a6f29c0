package plots

import (
	"errors"
	"fmt"
	"io"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series writes a PNG line chart of series over dates (one value per date
// in each Line, NaN for a gap) with marks as labelled red points.
func Series(w io.Writer, title string, dates []time.Time, series []Line, marks []Mark) error {
	p, err := seriesPlot(title, dates, series, marks)
	if err != nil {
		return fmt.Errorf("plots: series %q: %w", title, err)
	}
	if err := render(w, p); err != nil {
		return fmt.Errorf("plots: series %q: %w", title, err)
	}
	return nil
}

func seriesPlot(title string, dates []time.Time, series []Line, marks []Mark) (*plot.Plot, error) {
	styled := make([]StyledLine, len(series))
	for i, l := range series {
		styled[i] = StyledLine{Line: l}
	}
	p, drawn, err := linesPlot(title, dates, styled)
	if err != nil {
		return nil, err
	}
	n, err := addMarks(p, marks)
	if err != nil {
		return nil, fmt.Errorf("marks: %w", err)
	}
	if drawn+n == 0 {
		return nil, errors.New("no finite values to draw")
	}
	useDateAxis(p)
	return p, nil
}

// addMarks draws the finite marks as red points with their labels and
// returns how many it drew.
func addMarks(p *plot.Plot, marks []Mark) (int, error) {
	var xys plotter.XYs
	var labels []string
	for _, m := range marks {
		if finite(m.Value) && !m.Date.IsZero() {
			xys = append(xys, plotter.XY{X: unixX(m.Date), Y: m.Value})
			labels = append(labels, m.Label)
		}
	}
	if len(xys) == 0 {
		return 0, nil
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return 0, err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: markColor(), Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
	p.Add(s)
	p.Legend.Add("anomaly", s)
	lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return 0, err
	}
	for i := range lbl.TextStyle {
		lbl.TextStyle[i].Color = markColor()
		lbl.TextStyle[i].Font.Size = vg.Points(7)
	}
	lbl.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(2)}
	p.Add(lbl)
	return len(xys), nil
}

// finiteRuns returns the [start, end) ranges of consecutive finite values.
func finiteRuns(vs []float64) [][2]int {
	var runs [][2]int
	start := -1
	for i, v := range vs {
		switch {
		case finite(v) && start < 0:
			start = i
		case !finite(v) && start >= 0:
			runs = append(runs, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		runs = append(runs, [2]int{start, len(vs)})
	}
	return runs
}

// useDateAxis labels X with dates and widens a range under two days so a
// single date sits in the middle.
func useDateAxis(p *plot.Plot) {
	p.X.Tick.Marker = dateTicks{}
	const day = 86400.0
	if p.X.Max-p.X.Min < 2*day {
		mid := (p.X.Min + p.X.Max) / 2
		p.X.Min, p.X.Max = mid-day, mid+day
	}
}
