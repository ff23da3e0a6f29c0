package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// Backtest evaluates a ticker walk-forward: it prepares the data once
// (ingest or the champion's raw data → split → validate → clean), plans
// the folds, runs a BacktestFold child per fold (at most Parallel at once;
// each trains on its past and scores the model and the baselines on the
// block after it), then summarises the folds and writes the report under
// backtests/<id>/. It registers and promotes nothing. One failed fold
// fails the backtest, saying which and why: a summary over the folds that
// happened to succeed would not be the backtest that was asked for.
func Backtest(ctx workflow.Context, in pipeline.BacktestInput) (pipeline.BacktestResult, error) {
	in = in.WithDefaults()
	if err := in.Check(); err != nil {
		return pipeline.BacktestResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	ticker, _ := pipeline.NormalizeTicker(in.Ticker) // Check accepted it
	b := &backtestRun{in: in, ticker: ticker, progress: pipeline.BacktestProgress{Stage: "data"},
		out: pipeline.BacktestResult{BacktestID: workflow.GetInfo(ctx).WorkflowExecution.ID, Ticker: ticker,
			Spec: in.Spec, Levels: in.Levels, Started: workflow.Now(ctx)}}
	if err := workflow.SetQueryHandler(ctx, pipeline.ProgressQuery, func() (pipeline.BacktestProgress, error) {
		return b.progress, nil
	}); err != nil {
		return pipeline.BacktestResult{}, err
	}
	for _, step := range []func(workflow.Context) error{b.prepare, b.runFolds, b.summarize, b.report} {
		if err := step(ctx); err != nil {
			return pipeline.BacktestResult{}, err
		}
	}
	b.progress.Stage = "done"
	b.out.Finished = workflow.Now(ctx)
	return b.out, nil
}

// backtestRun is one Backtest's state.
type backtestRun struct {
	in       pipeline.BacktestInput
	ticker   string
	plan     steps.BacktestPlanResult
	progress pipeline.BacktestProgress
	out      pipeline.BacktestResult
}

// prepare reads, validates and cleans the data once and plans the folds.
// Cleaning forward-fills missing values and only flags outlying returns
// (prep.DefaultCleanSpec), whatever a training run would do: clipping or
// interpolating would use bounds or values from the future of early folds.
func (b *backtestRun) prepare(ctx workflow.Context) error {
	raw, splits, err := b.rawSplits(ctx)
	if err != nil {
		return err
	}
	b.out.Raw = raw
	var checked steps.ValidateResult
	if err := local(ctx, steps.Validate, steps.ValidateInput{Splits: splits, Config: b.in.Validate, FailOnCritical: true}, &checked); err != nil {
		return stepFailed("validate", err)
	}
	var cleaned steps.CleanResult
	if err := local(ctx, steps.Clean, steps.CleanInput{Splits: splits, Spec: prep.DefaultCleanSpec()}, &cleaned); err != nil {
		return stepFailed("clean", err)
	}
	if err := local(ctx, steps.BacktestPlan, steps.BacktestPlanInput{Cleaned: cleaned.Splits, Spec: b.in.Spec}, &b.plan); err != nil {
		return stepFailed("plan folds", err)
	}
	b.out.Series = b.plan.Series
	b.progress.Folds = len(b.plan.Folds)
	return nil
}

// rawSplits ingests the CSV asked for, or takes the raw data the ticker's
// champion (else its latest version) was trained on, and splits it for
// validation and cleaning.
func (b *backtestRun) rawSplits(ctx workflow.Context) (raw blob.Ref, splits steps.Splits, err error) {
	if b.in.CSVKey != "" {
		ingest, splits, err := ingestAndSplit(ctx, steps.IngestInput{Ticker: b.ticker, CSVKey: b.in.CSVKey, Format: b.in.Format}, prep.DefaultFractions)
		return ingest.Raw, splits, err
	}
	var base pipeline.BaseModel
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.ResolveBase,
		steps.ResolveBaseInput{Ticker: b.ticker}).Get(ctx, &base); err != nil {
		return raw, splits, stepFailed("champion data", err)
	}
	if err := local(ctx, steps.Split, steps.SplitInput{Raw: base.Raw, Fractions: prep.DefaultFractions}, &splits); err != nil {
		return raw, splits, stepFailed("split", err)
	}
	return base.Raw, splits, nil
}

// summarize scores every model across the folds.
func (b *backtestRun) summarize(ctx workflow.Context) error {
	b.progress.Stage = "summary"
	var sum steps.BacktestSummarizeResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, renderOptions()), steps.BacktestSummarize,
		steps.BacktestSummarizeInput{BacktestID: b.out.BacktestID, Folds: b.out.Folds, Horizon: b.in.Horizon}).Get(ctx, &sum); err != nil {
		return stepFailed("summarize", err)
	}
	b.out.Summary, b.out.Intervals, b.out.SummaryURI = sum.Summary, sum.Intervals, sum.SummaryURI
	return nil
}

// report writes backtests/<id>/report.html and its charts.
func (b *backtestRun) report(ctx workflow.Context) error {
	b.progress.Stage = "report"
	var rep steps.BacktestReportResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, renderOptions()), steps.BacktestReport,
		steps.BacktestReportInput{Result: b.out}).Get(ctx, &rep); err != nil {
		return stepFailed("report", err)
	}
	b.out.ReportURI = rep.ReportURI
	return nil
}
