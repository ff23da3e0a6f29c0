package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/plots"
	"github.com/finsight/finsight/internal/runs"
)

// uiDataURI is a data: URI of an image the API drew itself; html/template
// would refuse data: URIs from elsewhere.
type uiDataURI = template.URL

func pngDataURI(png []byte) uiDataURI {
	return uiDataURI("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

// ZoomDays is how many of the last common test days the comparison's
// actual-vs-predicted chart shows: over a thousand days the lines draw as
// one.
const ZoomDays = 60

// runLabel names a run in the charts' legends: its column letter and id.
func runLabel(i int, id string) string {
	if id == "" {
		return string(rune('A' + i))
	}
	if len(id) > 28 {
		id = id[:27] + "…"
	}
	return fmt.Sprintf("%c %s", 'A'+i, id)
}

// learningCurves overlays the runs' validation losses, and their training
// losses, by epoch.
func learningCurves(recs []runs.Record, outs []runOutcome) ([]uiChart, bool) {
	epochs := 0
	for _, o := range outs {
		for _, e := range o.curve {
			epochs = max(epochs, e.Epoch)
		}
	}
	if epochs == 0 {
		return nil, false
	}
	xs := make([]float64, epochs)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	var val, train []plots.Line
	for i, o := range outs {
		v, t := nanLine(epochs), nanLine(epochs)
		for _, e := range o.curve {
			if e.Epoch >= 1 && e.Epoch <= epochs {
				v[e.Epoch-1], t[e.Epoch-1] = e.ValLoss, e.TrainLoss
			}
		}
		val = append(val, plots.Line{Name: runLabel(i, recs[i].ID), Values: v})
		train = append(train, plots.Line{Name: runLabel(i, recs[i].ID), Values: t})
	}
	var out []uiChart
	for _, c := range []struct {
		title string
		lines []plots.Line
	}{{"Validation loss by epoch (scaled units)", val}, {"Training loss by epoch (scaled units)", train}} {
		var b bytes.Buffer
		if err := plots.Curve(&b, c.title, "epoch", xs, c.lines); err != nil {
			out = append(out, uiChart{Title: c.title, Note: "not drawn: " + err.Error()})
			continue
		}
		out = append(out, uiChart{Title: c.title, Src: pngDataURI(b.Bytes())})
	}
	return out, true
}

func nanLine(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

// readPredictions reads each run's test predictions (nil for a run that
// has none: it failed or is still running), with a note for each missing.
func (s *Server) readPredictions(ctx context.Context, recs []runs.Record) ([]*frame.Predictions, []string, error) {
	out := make([]*frame.Predictions, len(recs))
	var notes []string
	for i, r := range recs {
		rd, err := s.store.Get(ctx, runs.PredictionsKey(r.ID))
		if errors.Is(err, blob.ErrNotFound) {
			notes = append(notes, fmt.Sprintf("%c: run %s has no test predictions (status %s)", 'A'+i, r.ID, r.Status))
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("predictions of %s: %w", r.ID, err)
		}
		p, err := frame.ReadPredictions(rd, memory.DefaultAllocator)
		rd.Close()
		if err != nil {
			notes = append(notes, fmt.Sprintf("%c: the test predictions of %s do not read: %v", 'A'+i, r.ID, err))
			continue
		}
		out[i] = p
	}
	return out, notes, nil
}

// uiCommonDays scores every run with predictions, and naive, on the test
// days all of them share.
type uiCommonDays struct {
	Days        int
	First, Last string
	Rows        []uiCommonRow
}

type uiCommonRow struct {
	Name, RMSE, MAE, MASE, DMP string
	Beat, Lost                 bool
}

// commonDays lines up the runs' predictions on the dates they all have
// (the same ticker's: actuals of different tickers do not compare) and
// scores and draws them there. It returns a note instead when fewer than
// two runs have predictions or they share no day.
func commonDays(preds []*frame.Predictions) (*uiCommonDays, []uiChart, string) {
	var with []int
	for i, p := range preds {
		if p != nil && p.Len() > 0 {
			with = append(with, i)
		}
	}
	if len(with) < 2 {
		return nil, nil, "fewer than two of the runs have test predictions: no common test days to compare"
	}
	dates, idx := sharedDates(preds, with)
	if len(dates) == 0 {
		return nil, nil, "the runs share no test day (different tickers or test periods)"
	}
	first := preds[with[0]]
	actual, naive := make([]float64, len(dates)), make([]float64, len(dates))
	for k := range dates {
		j := idx[0][k]
		actual[k], naive[k] = first.Actual[j], first.Naive[j]
	}
	cd := &uiCommonDays{Days: len(dates), First: dates[0].Format("2006-01-02"), Last: dates[len(dates)-1].Format("2006-01-02")}
	zoomFrom := max(0, len(dates)-ZoomDays)
	zoom := []plots.Line{{Name: "actual", Values: actual[zoomFrom:]}, {Name: "naive", Values: naive[zoomFrom:]}}
	var cum []plots.Line
	for n, i := range with {
		pred := make([]float64, len(dates))
		for k := range dates {
			pred[k] = preds[i].Predicted[idx[n][k]]
		}
		row := uiCommonRow{Name: runLabel(i, "")}
		if c, err := metrics.Compare(actual, pred, naive); err == nil {
			row.RMSE, row.MAE = fmt.Sprintf("%.4f", c.Model.RMSE), fmt.Sprintf("%.4f", c.Model.MAE)
			row.MASE, row.DMP = fmt.Sprintf("%.3f", float64(c.MASE)), fmt.Sprintf("%.4f", float64(c.DMPValue))
			row.Beat, row.Lost = c.Model.RMSE < c.Naive.RMSE, c.Model.RMSE > c.Naive.RMSE
		}
		cd.Rows = append(cd.Rows, row)
		zoom = append(zoom, plots.Line{Name: runLabel(i, ""), Values: pred[zoomFrom:]})
		if gain, err := metrics.CumulativeSquaredErrorDiff(actual, pred, naive); err == nil {
			cum = append(cum, plots.Line{Name: runLabel(i, ""), Values: gain})
		}
	}
	if ns, err := metrics.Score(actual, naive); err == nil {
		cd.Rows = append(cd.Rows, uiCommonRow{Name: "naive", RMSE: fmt.Sprintf("%.4f", ns.RMSE), MAE: fmt.Sprintf("%.4f", ns.MAE), MASE: "1.000"})
	}
	var charts []uiChart
	zoomTitle := fmt.Sprintf("Last %d common test days: actual, naive and each run's next Open", len(dates)-zoomFrom)
	charts = append(charts, drawSeries(zoomTitle, "", dates[zoomFrom:], zoom))
	charts = append(charts, drawSeries("Cumulative squared-error gain over naive (naive² − model²)",
		"Rises where the run beats naive, falls where naive wins; above zero at the end means lower total squared error than naive.", dates, cum))
	return cd, charts, ""
}

// sharedDates are the dates every run in with has, in the first's order,
// and for each run the row of each date.
func sharedDates(preds []*frame.Predictions, with []int) ([]time.Time, [][]int) {
	rows := make([]map[time.Time]int, len(with))
	for n, i := range with {
		rows[n] = make(map[time.Time]int, preds[i].Len())
		for j, d := range preds[i].Date {
			rows[n][d] = j
		}
	}
	var dates []time.Time
	idx := make([][]int, len(with))
	for j, d := range preds[with[0]].Date {
		all := true
		for n := 1; n < len(with) && all; n++ {
			_, all = rows[n][d]
		}
		if !all {
			continue
		}
		dates = append(dates, d)
		idx[0] = append(idx[0], j)
		for n := 1; n < len(with); n++ {
			idx[n] = append(idx[n], rows[n][d])
		}
	}
	return dates, idx
}

func drawSeries(title, note string, dates []time.Time, lines []plots.Line) uiChart {
	var b bytes.Buffer
	if err := plots.Series(&b, title, dates, lines, nil); err != nil {
		return uiChart{Title: title, Note: "not drawn: " + err.Error()}
	}
	return uiChart{Title: title, Note: note, Src: pngDataURI(b.Bytes())}
}
