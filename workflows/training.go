package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/runs"
)

// TrainingPipeline runs [download] → ingest → split → validate → clean →
// plot → scale → window → [tune] → train → evaluate → register → promote →
// report and returns the registered version
// with its metrics. It passes references to the blob store between steps,
// never the data, and keeps the run record (runs/<workflow-id>/run.json) up
// to date after every step.
func TrainingPipeline(ctx workflow.Context, in pipeline.TrainingInput) (pipeline.TrainingResult, error) {
	in = in.WithDefaults()
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return pipeline.TrainingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidParams, err)
	}
	t, err := newTracker(ctx, in, ticker)
	if err != nil {
		return pipeline.TrainingResult{}, err
	}
	res, err := runTraining(ctx, t, in, ticker)
	t.finish(&res, err)
	if err == nil && res.ModelVersion > 0 {
		res.ReportURI = t.report(res)
	}
	return res, err
}

func runTraining(ctx workflow.Context, t *tracker, in pipeline.TrainingInput, ticker string) (pipeline.TrainingResult, error) {
	var a *activities.Activities // names the activity methods; the worker holds the real one
	info := workflow.GetInfo(ctx)
	out := pipeline.TrainingResult{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Ticker: ticker}
	runID := info.WorkflowExecution.ID

	t.begin("ingest")
	csvKey, err := fetchSource(ctx, ticker, in.CSVKey, in.Download)
	if err != nil {
		return out, err
	}
	t.rec.Data.CSV = csvKey
	frac := prep.Fractions{Train: in.Train, Val: in.Val, Test: in.Test}
	raw, splits, err := ingestAndSplit(ctx, ticker, csvKey, frac)
	if err != nil {
		return out, err
	}
	out.Raw, t.rec.Data.Raw = raw, raw
	t.rec.Data.Splits = [3]pipeline.DataRef{splits.Train, splits.Val, splits.Test}
	t.end()

	lctx := workflow.WithLocalActivityOptions(ctx, transformOptions())
	t.begin("validate")
	var checked activities.ValidateResult
	if err := workflow.ExecuteLocalActivity(lctx, a.Validate, activities.ValidateInput{
		Splits: splits, Config: in.Validate, FailOnCritical: true,
	}).Get(ctx, &checked); err != nil {
		return out, stepFailed("validate", err)
	}
	out.Anomalies, t.rec.Anomalies = checked.Counts, checked.Anomalies
	t.end()

	t.begin("clean")
	var cleaned activities.CleanResult
	if err := workflow.ExecuteLocalActivity(lctx, a.Clean, activities.CleanInput{Splits: splits, Spec: in.Clean}).Get(ctx, &cleaned); err != nil {
		return out, stepFailed("clean", err)
	}
	for _, r := range cleaned.Reports {
		out.FilledValues += r.Filled + r.Interpolated
		out.DroppedRows += r.DroppedRows
		out.Outliers += len(r.Outliers)
	}
	t.rec.Data.Cleaned = [3]pipeline.DataRef{cleaned.Splits.Train, cleaned.Splits.Val, cleaned.Splits.Test}
	t.end()

	t.begin("plot")
	var drawn activities.PlotResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, renderOptions()), a.Plot, activities.PlotInput{
		RunID: runID, Raw: raw, Cleaned: cleaned.Splits, Anomalies: checked.Anomalies,
	}).Get(ctx, &drawn); err != nil {
		return out, stepFailed("plot", err)
	}
	out.Plots = t.plotsFolder(drawn.Plots)
	t.end()

	t.begin("scale")
	var scaled activities.ScaleResult
	if err := workflow.ExecuteLocalActivity(lctx, a.Scale, activities.ScaleInput{
		Splits: cleaned.Splits, Spec: in.Transform, Horizon: in.Horizon,
	}).Get(ctx, &scaled); err != nil {
		return out, stepFailed("scale", err)
	}
	t.end()

	t.begin("window")
	var windows activities.Splits
	if err := workflow.ExecuteLocalActivity(lctx, a.Window, activities.WindowInput{
		Transform: scaled.Transform, Splits: cleaned.Splits, Lookback: in.Lookback,
	}).Get(ctx, &windows); err != nil {
		return out, stepFailed("window", err)
	}
	out.Windows = [3]int{windows.Train.Rows, windows.Val.Rows, windows.Test.Rows}
	t.rec.Data.Windows = [3]pipeline.DataRef{windows.Train, windows.Val, windows.Test}
	t.end()

	queue := trainingQueue(in.Device)
	params := in.Model
	if in.Tune.Trials > 0 {
		t.begin("tune")
		var tuned TuneResult
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: runID + "-tune"})
		if err := workflow.ExecuteChildWorkflow(cctx, pipeline.TuneWorkflow, TuneInput{
			Windows: windows, Base: in.Model, Spec: in.Tune, Queue: queue,
		}).Get(ctx, &tuned); err != nil {
			return out, stepFailed("tune", err)
		}
		params = tuned.Best
		out.Tuning, out.BestTrial = tuned.Trials, tuned.BestID
		t.end()
	}
	t.begin("train")
	var trained activities.TrainResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, trainOptions(queue)), a.Train,
		activities.TrainInput{RunID: runID, Windows: windows, Params: params}).Get(ctx, &trained); err != nil {
		return out, stepFailed("train", err)
	}
	out.Curve = trained.Curve
	out.Training = pipeline.TrainingRun{Attempt: trained.Attempt, ResumedFrom: trained.ResumedFrom,
		EpochsRun: trained.EpochsRun, BestEpoch: trained.BestEpoch, StoppedEarly: trained.StoppedEarly}
	t.end()

	t.begin("evaluate")
	var eval activities.EvaluateResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, evaluateOptions(queue)), a.Evaluate,
		activities.EvaluateInput{RunID: runID, Weights: trained.Weights, Config: trained.Config, Transform: scaled.Transform, Test: windows.Test}).Get(ctx, &eval); err != nil {
		return out, stepFailed("evaluate", err)
	}
	out.Metrics, out.Efficacy = eval.Metrics, eval.Efficacy
	t.predictions = eval.Predictions
	t.end()

	t.begin("register")
	var reg activities.RegisterResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), a.Register, activities.RegisterInput{
		Ticker: ticker, RunID: runID, Weights: trained.Weights, Transform: scaled.Transform, Config: trained.Config,
		Lookback: in.Lookback, Horizon: in.Horizon, Params: params, Metrics: eval.Metrics, Raw: raw, CSVKey: csvKey,
	}).Get(ctx, &reg); err != nil {
		return out, stepFailed("register", err)
	}
	out.ModelVersion = reg.Version
	out.ModelURI = reg.URI
	t.end()

	t.begin("promote")
	var gate activities.PromoteResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), a.Promote, activities.PromoteInput{
		Ticker: ticker, RunID: runID, Version: reg.Version, Predictions: t.predictions, Test: cleaned.Splits.Test,
		Margin: in.PromotionMargin, Force: in.ForcePromote,
	}).Get(ctx, &gate); err != nil {
		return out, stepFailed("promote", err)
	}
	out.Promotion = pipeline.Promotion{Alias: gate.Alias, Promoted: gate.Promoted, Forced: gate.Forced, Reason: gate.Reason,
		PreviousVersion: gate.PreviousVersion, Days: gate.Days, RMSE: gate.RMSE, ChampionRMSE: gate.ChampionRMSE, NaiveRMSE: gate.NaiveRMSE}
	t.rec.Promotion = &runs.Promotion{Version: reg.Version, Alias: gate.Alias, Promoted: gate.Promoted, Forced: gate.Forced, Reason: gate.Reason}
	t.end()
	return out, nil
}
