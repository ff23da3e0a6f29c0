package activities

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// ListFleetFiles lists the CSV files under a store prefix as fleet items,
// a ticker per file named after it; other files are listed as skipped.
func (a *Activities) ListFleetFiles(ctx context.Context, in steps.ListFleetInput) (steps.ListFleetResult, error) {
	keys, err := a.Store.List(ctx, in.Prefix)
	if err != nil {
		return steps.ListFleetResult{}, fmt.Errorf("list %s: %w", in.Prefix, err)
	}
	var out steps.ListFleetResult
	for _, k := range keys {
		if !strings.EqualFold(path.Ext(k), ".csv") {
			continue
		}
		name := path.Base(k)
		t, err := pipeline.TickerFromFileName(name)
		if err != nil {
			out.Skipped = append(out.Skipped, pipeline.FleetOutcome{Ticker: name, Status: pipeline.FleetFailed, Reason: err.Error()})
			continue
		}
		out.Items = append(out.Items, pipeline.FleetItem{Ticker: t, CSVKey: k, Name: name})
	}
	return out, nil
}

// PrepareTickers runs the training pipeline's data chain (ingest → split
// → validate → clean → scale → window, the same steps) over a group of
// tickers. A ticker whose data a step refuses is a failed outcome; a
// transient failure (the store) fails the activity, which is retried and
// resumes after the tickers its heartbeats recorded as done.
func (a *Activities) PrepareTickers(ctx context.Context, in steps.PrepareInput) (steps.PrepareResult, error) {
	var res steps.PrepareResult
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &res.Outcomes) // none on a decode error: start over
	}
	for _, it := range in.Items[min(len(res.Outcomes), len(in.Items)):] {
		o, err := a.prepareOne(ctx, it, in.Spec)
		if err != nil {
			return res, err
		}
		res.Outcomes = append(res.Outcomes, o)
		activity.RecordHeartbeat(ctx, res.Outcomes)
	}
	return res, nil
}

// prepareOne runs the chain over one ticker's file.
func (a *Activities) prepareOne(ctx context.Context, it pipeline.FleetItem, spec steps.PrepareSpec) (pipeline.FleetOutcome, error) {
	start := time.Now()
	o := pipeline.FleetOutcome{Ticker: it.Ticker, Status: pipeline.FleetCompleted}
	fail := func(step string, err error) (pipeline.FleetOutcome, error) {
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || !appErr.NonRetryable() {
			return o, fmt.Errorf("%s %s: %w", step, it.Ticker, err)
		}
		o.Status, o.Reason, o.Seconds = pipeline.FleetFailed, step+" failed: "+appErr.Message(), time.Since(start).Seconds()
		return o, nil
	}
	ing, err := a.Ingest(ctx, steps.IngestInput{Ticker: it.Ticker, CSVKey: it.CSVKey, Format: it.Format})
	if err != nil {
		return fail("ingest", err)
	}
	splits, err := a.Split(ctx, steps.SplitInput{Raw: ing.Raw, Fractions: spec.Fractions})
	if err != nil {
		return fail("split", err)
	}
	if _, err := a.Validate(ctx, steps.ValidateInput{Splits: splits, Config: spec.Validate, FailOnCritical: true}); err != nil {
		return fail("validate", err)
	}
	cleaned, err := a.Clean(ctx, steps.CleanInput{Splits: splits, Spec: spec.Clean})
	if err != nil {
		return fail("clean", err)
	}
	scaled, err := a.Scale(ctx, steps.ScaleInput{Splits: cleaned.Splits, Spec: spec.Transform, Horizon: spec.Horizon})
	if err != nil {
		return fail("scale", err)
	}
	w, err := a.Window(ctx, steps.WindowInput{Transform: scaled.Transform, Splits: cleaned.Splits, Lookback: spec.Lookback})
	if err != nil {
		return fail("window", err)
	}
	o.Rows, o.Windows, o.Seconds = ing.Raw.Rows, [3]int{w.Train.Rows, w.Val.Rows, w.Test.Rows}, time.Since(start).Seconds()
	return o, nil
}

// FleetReport writes a finished fleet's report: fleets/<id>/fleet.json
// (the result) and fleets/<id>/report.csv (a row per ticker).
func (a *Activities) FleetReport(ctx context.Context, in steps.FleetReportInput) (steps.FleetReportResult, error) {
	r := in.Result
	r.Report, r.CSV = a.Store.URI(pipeline.FleetReportKey(r.FleetID)), a.Store.URI(pipeline.FleetCSVKey(r.FleetID))
	if err := blob.PutJSON(ctx, a.Store, pipeline.FleetReportKey(r.FleetID), r); err != nil {
		return steps.FleetReportResult{}, fmt.Errorf("write the report of fleet %s: %w", r.FleetID, err)
	}
	table, err := fleetCSV(r.Outcomes)
	if err != nil {
		return steps.FleetReportResult{}, err
	}
	if err := blob.PutBytes(ctx, a.Store, pipeline.FleetCSVKey(r.FleetID), table); err != nil {
		return steps.FleetReportResult{}, fmt.Errorf("write the table of fleet %s: %w", r.FleetID, err)
	}
	return steps.FleetReportResult{Report: r.Report, CSV: r.CSV}, nil
}

// fleetCSVHeader are the columns of a fleet's report.csv.
var fleetCSVHeader = []string{"ticker", "status", "model_version", "test_rmse", "naive_rmse", "beat_naive", "mase", "dm_p",
	"test_days", "alias", "promoted", "rows", "windows_train", "windows_val", "windows_test", "seconds", "workflow_id", "reason"}

func fleetCSV(outcomes []pipeline.FleetOutcome) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(fleetCSVHeader); err != nil {
		return nil, fmt.Errorf("fleet table: %w", err)
	}
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, o := range outcomes {
		row := []string{o.Ticker, o.Status, strconv.Itoa(o.ModelVersion), num(o.RMSE), num(o.NaiveRMSE), strconv.FormatBool(o.BeatNaive()),
			num(o.MASE), num(o.DMP), strconv.Itoa(o.TestDays), o.Alias, strconv.FormatBool(o.Promoted), strconv.Itoa(o.Rows),
			strconv.Itoa(o.Windows[0]), strconv.Itoa(o.Windows[1]), strconv.Itoa(o.Windows[2]), strconv.FormatFloat(o.Seconds, 'f', 2, 64),
			o.WorkflowID, o.Reason}
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("fleet table: %w", err)
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}
