package activities

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/plots"
	"github.com/finsight/finsight/internal/steps"
)

// Plot draws the raw data (Open, Close, Volume), the refined data per split
// (line, histogram, box plot) and the anomalies marked on the series, as
// PNGs in runs/<id>/plots/data_*.png.
func (a *Activities) Plot(ctx context.Context, in steps.PlotInput) (steps.PlotResult, error) {
	raw, err := a.readBars(ctx, in.Raw)
	if err != nil {
		return steps.PlotResult{}, err
	}
	sets := map[string][]byte{}
	rawSet, err := plots.RawSet(raw)
	if err != nil {
		return steps.PlotResult{}, fmt.Errorf("raw plots: %w", err)
	}
	merge(sets, rawSet)
	splits := map[string]*frame.Bars{}
	for i, ref := range in.Cleaned.Parts() {
		if splits[splitNames[i]], err = a.readBars(ctx, *ref); err != nil {
			return steps.PlotResult{}, err
		}
	}
	refined, err := plots.RefinedSet(splits)
	if err != nil {
		return steps.PlotResult{}, fmt.Errorf("refined plots: %w", err)
	}
	merge(sets, refined)
	marked := in.Anomalies
	if in.AnomalyList != nil && in.AnomalyList.Key != "" {
		if marked, err = a.readAnomalies(ctx, *in.AnomalyList); err != nil {
			return steps.PlotResult{}, err
		}
	}
	anomalies, err := plots.AnomalySet(raw, anomalyMarks(raw, marked))
	if err != nil {
		return steps.PlotResult{}, fmt.Errorf("anomaly plot: %w", err)
	}
	merge(sets, anomalies)
	out := steps.PlotResult{Plots: map[string]string{}}
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := a.putRunFile(ctx, in.RunID, "plots/data_"+n, sets[n], out.Plots); err != nil {
			return steps.PlotResult{}, err
		}
	}
	return out, nil
}

func merge(dst, src map[string][]byte) {
	for k, v := range src {
		dst[k] = v
	}
}

// anomalyMarks places row-level anomalies (not info) on the Open series.
func anomalyMarks(raw *frame.Bars, as []pipeline.Anomaly) []plots.Mark {
	byDate := map[string]int{}
	for i, d := range raw.Date {
		byDate[d.Format("2006-01-02")] = i
	}
	var marks []plots.Mark
	seen := map[string]bool{}
	for _, an := range as {
		i, ok := byDate[an.Date]
		if !ok || an.Severity == "info" || seen[an.Date] {
			continue
		}
		seen[an.Date] = true
		v := raw.Open[i]
		if v != v { // missing Open: mark at the close, else skip
			if v = raw.Close[i]; v != v {
				continue
			}
		}
		marks = append(marks, plots.Mark{Date: raw.Date[i].In(time.UTC), Value: v, Label: an.Rule})
	}
	return marks
}
