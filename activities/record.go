package activities

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/report"
	"github.com/finsight/finsight/internal/runs"
)

// SaveRunResult is empty: saving either works or fails.
type SaveRunResult struct{}

// SaveRun writes the run record, with the per-step peak memory and attempt
// counts the worker measured (runs/<id>/stats/) merged into its steps.
func (a *Activities) SaveRun(ctx context.Context, rec runs.Record) (SaveRunResult, error) {
	if rec.Code == "" {
		rec.Code = a.CodeVersion
	}
	stats, err := runs.ReadStats(ctx, a.Store, rec.ID)
	if err != nil {
		return SaveRunResult{}, err
	}
	for i := range rec.Steps {
		for _, st := range stats {
			if !strings.EqualFold(st.Activity, rec.Steps[i].Name) {
				continue
			}
			rec.Steps[i].PeakRSSMB = max(rec.Steps[i].PeakRSSMB, st.PeakRSSMB)
			rec.Steps[i].Attempts = max(rec.Steps[i].Attempts, st.Attempt)
		}
	}
	return SaveRunResult{}, runs.Write(ctx, a.Store, rec)
}

// ReportInput names the run to report on.
type ReportInput struct {
	RunID       string   `json:"run_id"`
	Predictions blob.Ref `json:"predictions"`
	// Final, when set, is how the run ended: the report renders the saved
	// record with it, so the report exists before the saved record says the
	// run is over. (Only the outcome travels, not the record, whose anomaly
	// list can be large.)
	Final *runs.Final `json:"final,omitempty"`
}

// ReportResult lists the report's files by name → URI.
type ReportResult struct {
	Artifacts map[string]string `json:"artifacts"`
}

// Report renders the run's efficacy report (runs/<id>/report.html) and its
// plots (runs/<id>/plots/) from the saved record and test predictions.
func (a *Activities) Report(ctx context.Context, in ReportInput) (ReportResult, error) {
	rec, err := runs.Read(ctx, a.Store, in.RunID)
	if err != nil {
		return ReportResult{}, storeErr(err, "read run %s", in.RunID)
	}
	if f := in.Final; f != nil {
		rec.Status, rec.Error, rec.FinishedAt = f.Status, f.Error, &f.FinishedAt
	}
	out := ReportResult{Artifacts: map[string]string{}}
	var plots []report.Plot
	if in.Predictions.Key != "" {
		raw, err := a.readVerified(ctx, in.Predictions)
		if err != nil {
			return ReportResult{}, err
		}
		p, err := frame.ReadPredictions(bytes.NewReader(raw), a.Mem)
		if err != nil {
			return ReportResult{}, invalid(ErrCorrupt, err, "decode predictions: %v", err)
		}
		if plots, err = a.reportPlots(ctx, rec, p, out.Artifacts); err != nil {
			return ReportResult{}, err
		}
	}
	var page bytes.Buffer
	if err := report.HTML(&page, rec, plots); err != nil {
		return ReportResult{}, err
	}
	key := runs.ReportKey(in.RunID)
	if err := a.Store.Put(ctx, key, &page); err != nil {
		return ReportResult{}, fmt.Errorf("write %s: %w", key, err)
	}
	out.Artifacts["report"] = a.Store.URI(key)
	return out, nil
}
