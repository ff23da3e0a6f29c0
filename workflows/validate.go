package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// ValidateData runs ingestion and validation alone ([download] → ingest →
// split → validate) and returns every anomaly; critical ones are reported,
// not raised, so a user sees everything wrong with a file at once.
func ValidateData(ctx workflow.Context, in pipeline.ValidateInput) (pipeline.ValidateResult, error) {
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return pipeline.ValidateResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	if in.Train == 0 && in.Val == 0 && in.Test == 0 {
		in.Train, in.Val, in.Test = 0.7, 0.1, 0.2
	}
	notes := newNotices(ctx, ticker)
	ui := startWebUI(ctx, ticker, in.SearchAttributes, map[string]any{memoMode: "validate", memoData: dataLabel("", in.CSVKey, in.Download)})
	out, err := validateData(ctx, in, ticker, ui)
	ui.finish(err)
	if err != nil {
		notes.send(notes.failure(err, "")) // no run record to list it in: the outcome is under runs/<id>/notifications/
	}
	return out, err
}

// validateData is ValidateData's steps; ui follows them (Stage).
func validateData(ctx workflow.Context, in pipeline.ValidateInput, ticker string, ui *webUI) (pipeline.ValidateResult, error) {
	out := pipeline.ValidateResult{Ticker: ticker}
	if in.Download != nil {
		ui.setStage("download")
	}
	csvKey, err := fetchSource(ctx, ticker, in.CSVKey, in.Download)
	if err != nil {
		return out, err
	}
	ui.setStage("ingest")
	ingest, splits, err := ingestAndSplit(ctx, steps.IngestInput{Ticker: ticker, CSVKey: csvKey, Format: in.Format},
		prep.Fractions{Train: in.Train, Val: in.Val, Test: in.Test})
	if err != nil {
		return out, err
	}
	out.Raw, out.Read = ingest.Raw, ingest.Read.Summary()
	ui.memo(map[string]any{memoDataVersion: dataVersion(ingest.Raw)})
	ui.setStage("validate")
	var v steps.ValidateResult
	lctx := workflow.WithLocalActivityOptions(ctx, transformOptions())
	if err := workflow.ExecuteLocalActivity(lctx, steps.Validate, steps.ValidateInput{Splits: splits, Config: in.Config}).Get(ctx, &v); err != nil {
		return out, stepFailed("validate", err)
	}
	out.Schema, out.Stats, out.Anomalies, out.Counts, out.AnomalyList = v.Schema, v.Stats, v.Anomalies, v.Counts, v.AnomalyList
	return out, nil
}

// fetchSource returns the CSV to ingest: the given upload, or a Yahoo
// download of the range.
func fetchSource(ctx workflow.Context, ticker, csvKey string, dl *pipeline.DownloadSpec) (string, error) {
	if dl == nil {
		return csvKey, nil
	}
	var got steps.DownloadResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, downloadOptions()), steps.Download,
		steps.DownloadInput{Ticker: ticker, Start: dl.Start, End: dl.End}).Get(ctx, &got); err != nil {
		return "", stepFailed("download", err)
	}
	return got.CSVKey, nil
}

// ingestAndSplit turns an uploaded CSV into raw Arrow bars and splits them.
func ingestAndSplit(ctx workflow.Context, in steps.IngestInput, frac prep.Fractions) (steps.IngestResult, steps.Splits, error) {
	var ingest steps.IngestResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, ingestOptions()), steps.Ingest, in).Get(ctx, &ingest); err != nil {
		return ingest, steps.Splits{}, stepFailed("ingest", err)
	}
	var splits steps.Splits
	lctx := workflow.WithLocalActivityOptions(ctx, transformOptions())
	if err := workflow.ExecuteLocalActivity(lctx, steps.Split, steps.SplitInput{Raw: ingest.Raw, Fractions: frac}).Get(ctx, &splits); err != nil {
		return ingest, steps.Splits{}, stepFailed("split", err)
	}
	return ingest, splits, nil
}
