package activities

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/plots"
	"github.com/finsight/finsight/internal/report"
	"github.com/finsight/finsight/internal/runs"
)

// reportPlots renders the report's charts into runs/<id>/plots/: actual vs
// predicted with naive, residuals of both, and the learning curve. It
// returns them, with the run's data plots, for the page (URLs relative to
// report.html).
func (a *Activities) reportPlots(ctx context.Context, rec runs.Record, p *frame.Predictions, artifacts map[string]string) ([]report.Plot, error) {
	charts := map[string]func(*bytes.Buffer) error{
		"predictions.png": func(b *bytes.Buffer) error {
			return plots.Series(b, rec.Ticker+": actual vs predicted next Open (test)", p.Date, []plots.Line{
				{Name: "actual", Values: p.Actual}, {Name: "model", Values: p.Predicted}, {Name: "naive", Values: p.Naive}}, nil)
		},
		"residuals.png": func(b *bytes.Buffer) error {
			res := make([]float64, 0, 2*p.Len())
			for i := range p.Actual {
				res = append(res, p.Predicted[i]-p.Actual[i])
			}
			return plots.Histogram(b, "model residuals (predicted − actual)", res, 40)
		},
		"residuals_time.png": func(b *bytes.Buffer) error {
			m, n := make([]float64, p.Len()), make([]float64, p.Len())
			for i := range p.Actual {
				m[i], n[i] = p.Predicted[i]-p.Actual[i], p.Naive[i]-p.Actual[i]
			}
			return plots.Series(b, "residuals over the test period", p.Date, []plots.Line{{Name: "model", Values: m}, {Name: "naive", Values: n}}, nil)
		},
	}
	if rec.Result != nil && len(rec.Result.Curve) > 0 {
		charts["loss.png"] = func(b *bytes.Buffer) error {
			var xs, tr, va []float64
			for _, e := range rec.Result.Curve {
				xs, tr, va = append(xs, float64(e.Epoch)), append(tr, e.TrainLoss), append(va, e.ValLoss)
			}
			return plots.Curve(b, "training and validation loss (scaled units)", "epoch", xs, []plots.Line{{Name: "train", Values: tr}, {Name: "validation", Values: va}})
		}
	}
	titles := map[string]string{"predictions.png": "Actual vs predicted (and naive) over the test period",
		"residuals.png": "Residuals", "residuals_time.png": "Residuals over time", "loss.png": "Learning curve"}
	var out []report.Plot
	for _, name := range []string{"predictions.png", "residuals_time.png", "residuals.png", "loss.png"} {
		draw, ok := charts[name]
		if !ok {
			continue
		}
		var buf bytes.Buffer
		if err := draw(&buf); err != nil {
			return nil, fmt.Errorf("plot %s: %w", name, err)
		}
		if err := a.putRunFile(ctx, rec.ID, "plots/"+name, buf.Bytes(), artifacts); err != nil {
			return nil, err
		}
		out = append(out, report.Plot{Title: titles[name], URL: "plots/" + name})
	}
	return append(out, a.dataPlots(ctx, rec.ID)...), nil
}

// dataPlots lists the data plots the Plot step stored for the run.
func (a *Activities) dataPlots(ctx context.Context, runID string) []report.Plot {
	keys, err := a.Store.List(ctx, runs.PlotsDir(runID)+"data_")
	if err != nil {
		return nil
	}
	sort.Strings(keys)
	var out []report.Plot
	for _, k := range keys {
		name := k[len(runs.Dir(runID)):]
		out = append(out, report.Plot{Title: "Data: " + name[len("plots/data_"):], URL: name})
	}
	return out
}

func (a *Activities) putRunFile(ctx context.Context, runID, rel string, b []byte, artifacts map[string]string) error {
	key := runs.Key(runID, rel)
	if err := a.Store.Put(ctx, key, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	if artifacts != nil {
		artifacts[rel] = a.Store.URI(key)
	}
	return nil
}
