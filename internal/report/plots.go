package report

import (
	"fmt"
	"slices"
	"strings"
)

// File names, under a run's plots/ folder, of the report's own charts.
const (
	PredictionsPlot   = "predictions.png"    // actual, model and naive over the test period
	ZoomPlot          = "zoom.png"           // the same over the last ZoomDays test days
	CumulativePlot    = "cumulative.png"     // cumulative naive² − model² squared error
	ResidualsTimePlot = "residuals_time.png" // residuals of model and naive over time
	ResidualsPlot     = "residuals.png"      // histogram of the model's residuals
	LossPlot          = "loss.png"           // learning curve
)

// ZoomDays is how many of the last test days ZoomPlot shows.
const ZoomDays = 60

// dataPlotPrefix starts the names of the data plots of the Plot step.
const dataPlotPrefix = "data_"

// chartTitles are the report's own charts in the order the page shows
// them, with their titles.
func chartTitles() []Plot {
	return []Plot{
		{URL: PredictionsPlot, Title: "Actual vs predicted (and naive) next Open over the test period"},
		{URL: ZoomPlot, Title: fmt.Sprintf("Actual, model and naive over the last %d test days", ZoomDays)},
		{URL: CumulativePlot, Title: "Cumulative squared-error difference, naive − model: rises where the model beats naive"},
		{URL: ResidualsTimePlot, Title: "Residuals over time (naive lighter, the model on top)"},
		{URL: ResidualsPlot, Title: "Histogram of the model's residuals"},
		{URL: LossPlot, Title: "Learning curve"},
	}
}

// PlotsFor orders and titles the plots of a run given the file names under
// its plots/ folder: the report's charts in a fixed order (predictions,
// zoom, cumulative, residuals over time, residuals histogram, learning
// curve), then the data plots (data_*.png) and any other .png, each by
// name. Names that are not plain .png file names are left out. URLs are
// "plots/<name>", relative to the report's own URL.
func PlotsFor(names []string) []Plot {
	have := map[string]bool{}
	for _, n := range names {
		if n != "" && !strings.ContainsAny(n, `/\`) && strings.HasSuffix(n, ".png") {
			have[n] = true
		}
	}
	var out []Plot
	for _, c := range chartTitles() {
		if have[c.URL] {
			out = append(out, Plot{Title: c.Title, URL: "plots/" + c.URL})
			delete(have, c.URL)
		}
	}
	return append(out, otherPlots(have)...)
}

// otherPlots are the data plots, then any other plots, each set by name.
func otherPlots(names map[string]bool) []Plot {
	var data, other []string
	for n := range names {
		if strings.HasPrefix(n, dataPlotPrefix) {
			data = append(data, n)
		} else {
			other = append(other, n)
		}
	}
	slices.Sort(data)
	slices.Sort(other)
	out := make([]Plot, 0, len(data)+len(other))
	for _, n := range data {
		out = append(out, Plot{Title: "Data: " + strings.TrimSuffix(strings.TrimPrefix(n, dataPlotPrefix), ".png"), URL: "plots/" + n})
	}
	for _, n := range other {
		out = append(out, Plot{Title: strings.TrimSuffix(n, ".png"), URL: "plots/" + n})
	}
	return out
}
