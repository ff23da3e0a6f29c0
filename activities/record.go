package activities

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/report"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// SaveRun writes the run record, with the per-step peak memory, attempt
// counts and worker the workers measured (runs/<id>/stats/) merged into its
// steps.
func (a *Activities) SaveRun(ctx context.Context, rec runs.Record) (steps.SaveRunResult, error) {
	if rec.Code == "" {
		rec.Code = a.CodeVersion
	}
	stats, err := runs.ReadStats(ctx, a.Store, rec.ID)
	if err != nil {
		return steps.SaveRunResult{}, err
	}
	for i := range rec.Steps {
		for _, st := range stats {
			if !strings.EqualFold(st.Activity, rec.Steps[i].Name) {
				continue
			}
			rec.Steps[i].PeakRSSMB = max(rec.Steps[i].PeakRSSMB, st.PeakRSSMB)
			rec.Steps[i].Attempts = max(rec.Steps[i].Attempts, st.Attempt)
			if st.Worker != "" {
				rec.Steps[i].Worker = st.Worker // stats come oldest first: the last attempt's
			}
		}
	}
	ending := a.runEnding(ctx, rec)
	if err := runs.Write(ctx, a.Store, rec); err != nil {
		return steps.SaveRunResult{}, err
	}
	if ending {
		a.runEnded(ctx, rec)
	}
	return steps.SaveRunResult{}, nil
}

// Report renders the run's efficacy report (runs/<id>/report.html) and its
// plots (runs/<id>/plots/) from the saved record and test predictions; the
// page shows every plot of the run, the data plots too. (The API renders
// the same page live at /runs/<id>/report.)
func (a *Activities) Report(ctx context.Context, in steps.ReportInput) (steps.ReportResult, error) {
	rec, err := runs.Read(ctx, a.Store, in.RunID)
	if err != nil {
		return steps.ReportResult{}, storeErr(err, "read run %s", in.RunID)
	}
	if f := in.Final; f != nil {
		rec.Status, rec.Error, rec.FinishedAt = f.Status, f.Error, &f.FinishedAt
	}
	out := steps.ReportResult{Artifacts: map[string]string{}}
	if in.Predictions.Key != "" {
		raw, err := a.readVerified(ctx, in.Predictions)
		if err != nil {
			return steps.ReportResult{}, err
		}
		p, err := frame.ReadPredictions(bytes.NewReader(raw), a.Mem)
		if err != nil {
			return steps.ReportResult{}, invalid(steps.ErrCorrupt, err, "decode predictions: %v", err)
		}
		if err := a.writeReportPlots(ctx, rec, p, out.Artifacts); err != nil {
			return steps.ReportResult{}, err
		}
	}
	plots, err := a.reportPlots(ctx, rec.ID)
	if err != nil {
		return steps.ReportResult{}, err
	}
	var page bytes.Buffer
	if err := report.HTML(&page, rec, plots, a.reportNav(rec.ID)); err != nil {
		return steps.ReportResult{}, err
	}
	key := runs.ReportKey(in.RunID)
	if err := a.Store.Put(ctx, key, &page); err != nil {
		return steps.ReportResult{}, fmt.Errorf("write %s: %w", key, err)
	}
	out.Artifacts["report"] = a.Store.URI(key)
	return out, nil
}
