package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// InboxScan hands every new file under inbox/<TICKER>/ to its ticker's
// TickerRetrainer, exactly once per content. The finsight-inbox schedule
// runs it every few minutes; the storage hook runs it at once for the
// object that arrived.
func InboxScan(ctx workflow.Context, in pipeline.InboxInput) (pipeline.InboxResult, error) {
	startWebUI(ctx, "", false, map[string]any{memoMode: "inbox scan", memoData: inboxLabel(in.Keys)})
	var out pipeline.InboxResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, scanOptions()), steps.ScanInbox, in).Get(ctx, &out)
	if err != nil {
		return out, stepFailed("scan", err)
	}
	return out, nil
}

// RefreshTicker downloads the days since the ticker's base model's last
// day and hands them to its TickerRetrainer when there are any. A ticker's
// refresh schedule runs it.
func RefreshTicker(ctx workflow.Context, in pipeline.RefreshInput) (out pipeline.RefreshResult, err error) {
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return pipeline.RefreshResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	out = pipeline.RefreshResult{Ticker: ticker}
	if in.Source == "" {
		in.Source = "yahoo"
	}
	if in.Source != "yahoo" {
		return out, temporal.NewNonRetryableApplicationError("refresh source "+in.Source+": only yahoo is supported", steps.ErrInvalidParams, nil)
	}
	ui := startWebUI(ctx, ticker, in.SearchAttributes, map[string]any{memoMode: "refresh",
		memoData: in.Source + ": the days after the base model's", memoParams: retrainParamsLabel(in.Options.WithDefaults())})
	defer func() { ui.finish(err) }() // Stage: how it ended
	ui.setStage("base")
	var base pipeline.BaseModel
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.ResolveBase,
		steps.ResolveBaseInput{Ticker: ticker}).Get(ctx, &base); err != nil {
		return out, stepFailed("base", err)
	}
	last, err := time.Parse("2006-01-02", base.LastDate)
	if err != nil {
		return out, temporal.NewNonRetryableApplicationError("base model's last day: "+err.Error(), steps.ErrCorrupt, err)
	}
	out.From, out.To = last.AddDate(0, 0, 1).Format("2006-01-02"), workflow.Now(ctx).UTC().Format("2006-01-02")
	if out.From > out.To {
		out.Note = "up to date: the data ends " + base.LastDate
		return out, nil
	}
	ui.setStage("download")
	var got steps.DownloadResult
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, downloadOptions()), steps.Download,
		steps.DownloadInput{Ticker: ticker, Start: out.From, End: out.To}).Get(ctx, &got)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == steps.ErrNotFound {
		out.Note = "no new days from " + in.Source + ": " + rootMessage(err)
		return out, nil
	}
	if err != nil {
		return out, stepFailed("download", err)
	}
	out.Rows, out.CSVKey = got.Rows, got.CSVKey
	sha := strings.TrimSuffix(strings.TrimPrefix(got.CSVKey, "uploads/"), ".csv")
	d := pipeline.NewData{CSVKey: got.CSVKey, SHA256: sha, Source: "refresh:yahoo", Name: "yahoo-" + out.From + "-" + out.To + ".csv",
		Arrived: workflow.Now(ctx).UTC(), Options: in.Options}
	ui.setStage("handoff")
	var handed steps.HandOffResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.HandOff, steps.HandOffInput{
		Ticker: ticker, Data: d, Device: in.Device, SearchAttributes: in.SearchAttributes,
	}).Get(ctx, &handed); err != nil {
		return out, stepFailed("handoff", err)
	}
	out.HandedOn, out.Note = true, "handed to "+handed.WorkflowID
	return out, nil
}

// inboxLabel names what an inbox scan looks at: all of inbox/, or the
// objects named (the first few).
func inboxLabel(keys []string) string {
	if len(keys) == 0 {
		return "inbox/"
	}
	shown := keys[:min(len(keys), 5)]
	label := fmt.Sprintf("%d object(s): %s", len(keys), strings.Join(shown, ", "))
	if len(keys) > len(shown) {
		label += ", ..."
	}
	return label
}
