package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// TrainingPipeline runs [download] → ingest → split → validate → clean →
// plot → scale → window → [tune] → train → evaluate → [backtest] →
// register → promote → report and returns the registered version
// with its metrics. It passes references to the blob store between steps,
// never the data, and keeps the run record (runs/<workflow-id>/run.json) up
// to date after every step.
func TrainingPipeline(ctx workflow.Context, in pipeline.TrainingInput) (pipeline.TrainingResult, error) {
	in = in.WithDefaults()
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return pipeline.TrainingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	// Bad levels or gate fail the run before its first step writes
	// anything. No recorded history has either, so they replay through
	// this unchanged.
	if err := in.CheckOptions(); err != nil {
		return pipeline.TrainingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	t, err := newTracker(ctx, ticker, in.SearchAttributes, func(r *runs.Record) {
		r.Input, r.Data.CSV = in, in.CSVKey
	})
	if err != nil {
		return pipeline.TrainingResult{}, err
	}
	t.notes = newNotices(ctx, ticker)
	t.ui = startWebUI(ctx, ticker, false, trainingMemo(in))
	res, err := runTraining(ctx, t, in, ticker)
	if err == nil && res.ModelVersion > 0 {
		t.rec.Result = &res
	}
	res.ReportURI = t.close(res.ModelVersion, err, err == nil && res.ModelVersion > 0)
	end, hasEnd := t.notes.promotion(res.Promotion, res.ModelVersion, res.ReportURI)
	t.notifyEnd(err, end, hasEnd)
	return res, err
}

// trainingRun is what the steps of one training pass to each other.
type trainingRun struct {
	in      pipeline.TrainingInput
	ticker  string
	runID   string
	queue   string
	csvKey  string
	raw     blob.Ref
	splits  steps.Splits
	checked steps.ValidateResult
	cleaned steps.CleanResult
	scaled  steps.ScaleResult
	windows steps.Splits
	params  pipeline.ModelParams
	trained steps.TrainResult
	eval    steps.EvaluateResult
	// evidence is the backtest gate's (nil with the split gate).
	evidence *steps.BacktestEvidence
	reg      steps.RegisterResult
	out      pipeline.TrainingResult
}

func runTraining(ctx workflow.Context, t *tracker, in pipeline.TrainingInput, ticker string) (pipeline.TrainingResult, error) {
	ctx = withGPUWait(ctx, in.GPUWait)
	info := workflow.GetInfo(ctx)
	r := &trainingRun{in: in, ticker: ticker, runID: info.WorkflowExecution.ID, queue: modelQueue(ctx, in.Device), params: in.Model,
		out: pipeline.TrainingResult{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Ticker: ticker}}
	err := t.runSteps(ctx, []pipelineStep{
		{"ingest", r.ingest, false},
		{"validate", r.validate, false},
		{"clean", r.clean, false},
		{"plot", r.plot, false},
		{"scale", r.scale, false},
		{"window", r.window, false},
		{"tune", r.tune, in.Tune.Trials <= 0},
		{"train", r.train, false},
		{"evaluate", r.evaluate, false},
		{"backtest", r.backtest, in.Gate != pipeline.GateBacktest},
		{"register", r.register, false},
		{"promote", r.promote, false},
	})
	return r.out, err
}

func (r *trainingRun) ingest(ctx workflow.Context, t *tracker) error {
	csvKey, err := fetchSource(ctx, r.ticker, r.in.CSVKey, r.in.Download)
	if err != nil {
		return err
	}
	r.csvKey, t.rec.Data.CSV = csvKey, csvKey
	frac := prep.Fractions{Train: r.in.Train, Val: r.in.Val, Test: r.in.Test}
	ingest, splits, err := ingestAndSplit(ctx, steps.IngestInput{Ticker: r.ticker, CSVKey: csvKey, Format: r.in.Format}, frac)
	if err != nil {
		return err
	}
	r.raw, r.splits = ingest.Raw, splits
	r.out.Raw, t.rec.Data.Raw = r.raw, r.raw
	if ingest.Read.Rows > 0 {
		t.rec.Data.Read = ingest.Read.Summary()
	}
	t.rec.Data.Splits = [3]blob.Ref{r.splits.Train, r.splits.Val, r.splits.Test}
	t.ui.memo(map[string]any{memoDataVersion: dataVersion(r.raw)})
	return nil
}

func (r *trainingRun) validate(ctx workflow.Context, t *tracker) error {
	err := local(ctx, steps.Validate, steps.ValidateInput{Splits: r.splits, Config: r.in.Validate, FailOnCritical: true}, &r.checked)
	r.out.Anomalies, t.rec.Anomalies, t.rec.AnomalyCounts = r.checked.Counts, r.checked.Anomalies, r.checked.Counts
	if r.checked.AnomalyURI != "" {
		t.addArtifacts(map[string]string{"anomalies.json": r.checked.AnomalyURI})
	}
	return err
}

func (r *trainingRun) clean(ctx workflow.Context, t *tracker) error {
	if err := local(ctx, steps.Clean, steps.CleanInput{Splits: r.splits, Spec: r.in.Clean}, &r.cleaned); err != nil {
		return err
	}
	r.out.FilledValues, r.out.DroppedRows, r.out.Outliers = cleaningCounts(r.cleaned)
	t.rec.Data.Cleaned = [3]blob.Ref{r.cleaned.Splits.Train, r.cleaned.Splits.Val, r.cleaned.Splits.Test}
	return nil
}

func (r *trainingRun) plot(ctx workflow.Context, t *tracker) error {
	var drawn steps.PlotResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, renderOptions()), steps.Plot, steps.PlotInput{
		RunID: r.runID, Raw: r.raw, Cleaned: r.cleaned.Splits, Anomalies: r.checked.Anomalies, AnomalyList: &r.checked.AnomalyList,
	}).Get(ctx, &drawn); err != nil {
		return err
	}
	r.out.Plots = t.plotsFolder(drawn.Plots)
	return nil
}

func (r *trainingRun) scale(ctx workflow.Context, _ *tracker) error {
	return local(ctx, steps.Scale, steps.ScaleInput{Splits: r.cleaned.Splits, Spec: r.in.Transform, Horizon: r.in.Horizon}, &r.scaled)
}

func (r *trainingRun) window(ctx workflow.Context, t *tracker) error {
	var err error
	r.windows, err = windowSplits(ctx, t, r.scaled.Transform, r.cleaned.Splits, r.in.Lookback)
	r.out.Windows = [3]int{r.windows.Train.Rows, r.windows.Val.Rows, r.windows.Test.Rows}
	return err
}

func (r *trainingRun) tune(ctx workflow.Context, _ *tracker) error {
	var tuned TuneResult
	// Cancelling the run cancels the search and waits for it to end, so
	// no trial is still training when the run reports itself cancelled.
	// The memo says in the Web UI what the search is (child options are
	// not compared on replay).
	opts := workflow.ChildWorkflowOptions{WorkflowID: r.runID + "-tune", WaitForCancellation: true, Memo: tuneMemo(r.ticker, r.in.Tune)}
	if r.in.SearchAttributes {
		// The search a user types for a ticker (Ticker = "NFLX") finds the
		// tuning child too. Child options are not compared on replay.
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(attrTicker.ValueSet(r.ticker))
	}
	cctx := workflow.WithChildOptions(ctx, opts)
	if err := workflow.ExecuteChildWorkflow(cctx, pipeline.TuneWorkflow, TuneInput{
		Windows: r.windows, Base: r.in.Model, Spec: r.in.Tune, Queue: r.queue, GPUWait: r.in.GPUWait,
	}).Get(ctx, &tuned); err != nil {
		return err
	}
	r.params = tuned.Best
	r.out.Tuning, r.out.BestTrial = tuned.Trials, tuned.BestID
	return nil
}

func (r *trainingRun) train(ctx workflow.Context, _ *tracker) error {
	var err error
	r.trained, err = trainModel(ctx, r.queue, steps.TrainInput{RunID: r.runID, Windows: r.windows, Params: r.params})
	r.out.Curve, r.out.Training = r.trained.Curve, r.trained.TrainingRun
	return err
}

func (r *trainingRun) evaluate(ctx workflow.Context, t *tracker) error {
	var err error
	r.eval, err = evaluateModel(ctx, r.queue, steps.EvaluateInput{
		RunID: r.runID, Weights: r.trained.Weights, Config: r.trained.Config, Transform: r.scaled.Transform, Test: r.windows.Test,
		Val: r.windows.Val, Levels: r.in.IntervalLevels})
	r.out.Metrics, r.out.Efficacy = r.eval.Metrics, r.eval.Efficacy
	t.predictions = r.eval.Predictions
	return err
}

func (r *trainingRun) register(ctx workflow.Context, _ *tracker) error {
	var err error
	r.reg, err = registerModel(ctx, steps.RegisterInput{
		Ticker: r.ticker, RunID: r.runID, Weights: r.trained.Weights, Transform: r.scaled.Transform, Config: r.trained.Config,
		Lookback: r.in.Lookback, Horizon: r.in.Horizon, Params: r.params, Metrics: r.eval.Metrics, Raw: r.raw, CSVKey: r.csvKey,
	})
	r.out.ModelVersion, r.out.ModelURI = r.reg.Version, r.reg.URI
	return err
}

func (r *trainingRun) promote(ctx workflow.Context, t *tracker) error {
	var err error
	r.out.Promotion, err = promoteModel(ctx, t, steps.PromoteInput{
		Ticker: r.ticker, RunID: r.runID, Version: r.reg.Version, Predictions: r.eval.Predictions, Test: r.cleaned.Splits.Test,
		Margin: r.in.PromotionMargin, Force: r.in.ForcePromote, Gate: r.in.Gate, Alpha: r.in.Alpha, Backtest: r.evidence,
	})
	return err
}
