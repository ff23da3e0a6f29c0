package workflows

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// Fine-tuning defaults: a warm start needs fewer epochs and smaller steps.
const (
	finetuneEpochs   = 5
	finetuneLRFactor = 0.1
	finetunePatience = 3
)

// RetrainingPipeline retrains one ticker on a batch of new files: base
// model → ingest each file → validate against the base's training data
// (rules, schema, conflicts with days present, drift) → merge into a new
// raw version → split (the newest new days are the test) → clean → scale
// (finetune keeps the base's transform) → window → train (warm start or
// from scratch) → evaluate → compare with the base and naive on the same
// test days → register → promote → report. Files that fail validation are
// rejected (inbox files move to rejected/ with their reason) and the rest
// go on; when none is left the run fails with InvalidData.
func RetrainingPipeline(ctx workflow.Context, in pipeline.RetrainingInput) (pipeline.RetrainingResult, error) {
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return pipeline.RetrainingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	opts := in.Options.WithDefaults()
	if err := opts.Validate(); err != nil {
		return pipeline.RetrainingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	if len(in.Files) == 0 {
		err := fmt.Errorf("a retrain needs at least one new file")
		return pipeline.RetrainingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	t, err := newTracker(ctx, ticker, in.SearchAttributes, func(r *runs.Record) {
		r.Retrain = &in
		r.Data.CSV = in.Files[0].CSVKey
	})
	if err != nil {
		return pipeline.RetrainingResult{}, err
	}
	t.notes = newNotices(ctx, ticker)
	t.ui = startWebUI(ctx, ticker, false, retrainMemo(in, opts))
	r := &retrainRun{in: in, opts: opts, ticker: ticker, runID: workflow.GetInfo(ctx).WorkflowExecution.ID, queue: modelQueue(ctx, in.Device)}
	r.out = pipeline.RetrainingResult{WorkflowID: r.runID, Ticker: ticker}
	err = r.run(ctx, t)
	t.rec.RetrainResult = &r.out
	r.out.ReportURI = t.close(r.out.ModelVersion, err, err == nil)
	end, hasEnd := t.notes.promotion(r.out.Promotion, r.out.ModelVersion, r.out.ReportURI)
	t.notifyEnd(err, end, hasEnd)
	return r.out, err
}

// retrainRun is what the steps of one retrain pass to each other.
type retrainRun struct {
	in       pipeline.RetrainingInput
	opts     pipeline.RetrainOptions
	ticker   string
	runID    string
	queue    string
	out      pipeline.RetrainingResult
	ingested []steps.NewFile
	accepted []blob.Ref
	merged   steps.MergeResult
	splits   steps.Splits
	cleaned  steps.CleanResult
	scale    blob.Ref // the transform the model uses
	windows  steps.Splits
	params   pipeline.ModelParams
	trained  steps.TrainResult
	eval     steps.EvaluateResult
}

func (r *retrainRun) run(ctx workflow.Context, t *tracker) error {
	return t.runSteps(ctx, []pipelineStep{
		{"base", r.resolveBase, false},
		{"ingest", r.ingest, false},
		{"validate", r.validate, false},
		{"merge", r.merge, false},
		{"split", r.split, false},
		{"clean", r.clean, false},
		{"scale", r.scaleStep, false},
		{"window", r.window, false},
		{"train", r.train, false},
		{"evaluate", r.evaluate, false},
		{"compare", r.compare, false},
		{"register", r.register, false},
		{"promote", r.promote, false},
	})
}

func (r *retrainRun) resolveBase(ctx workflow.Context, _ *tracker) error {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.ResolveBase,
		steps.ResolveBaseInput{Ticker: r.ticker, Version: r.opts.BaseVersion}).Get(ctx, &r.out.Base)
}

// ingest turns each new CSV into raw bars; a file that cannot be parsed is
// rejected, not fatal.
func (r *retrainRun) ingest(ctx workflow.Context, _ *tracker) error {
	actx := workflow.WithActivityOptions(ctx, ingestOptions())
	for _, f := range r.in.Files {
		var got steps.IngestResult
		err := workflow.ExecuteActivity(actx, steps.Ingest, steps.IngestInput{Ticker: r.ticker, CSVKey: f.CSVKey, Format: f.Format}).Get(ctx, &got)
		if reason, bad := badFile(err); bad {
			r.out.Files = append(r.out.Files, pipeline.FileOutcome{Name: f.Name, SHA256: f.SHA256, Rejected: true, Reason: reason})
			continue
		}
		if err != nil {
			return err
		}
		nf := steps.NewFile{Name: f.Name, SHA256: f.SHA256, Raw: got.Raw}
		if got.Read.Rows > 0 {
			nf.Read = got.Read.Summary()
		}
		r.ingested = append(r.ingested, nf)
	}
	return nil
}

// badFile: err says the file itself is bad (unparseable, missing), so it
// is rejected; other errors (the store, the worker) fail the step.
func badFile(err error) (string, bool) {
	var appErr *temporal.ApplicationError
	if err == nil || !errors.As(err, &appErr) {
		return "", false
	}
	switch appErr.Type() {
	case steps.ErrInvalidData, steps.ErrNotFound, steps.ErrCorrupt:
		return rootMessage(err), true
	}
	return "", false
}

// validate checks the ingested files against the base's training data,
// moves rejected inbox files aside and fails when no file is left.
func (r *retrainRun) validate(ctx workflow.Context, t *tracker) error {
	var checked steps.CheckNewDataResult
	if len(r.ingested) > 0 {
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, ingestOptions()), steps.CheckNewData, steps.CheckNewDataInput{
			Base: r.out.Base, Files: r.ingested, Config: r.in.Config, DriftThreshold: r.opts.DriftThreshold,
		}).Get(ctx, &checked); err != nil {
			return err
		}
	}
	r.out.Files = append(r.out.Files, checked.Files...)
	r.out.Drift, r.accepted = checked.Drift, checked.Accepted
	if r.out.Drift.Exceeded {
		t.notify(t.notes.drift(r.out.Drift))
	}
	if err := r.rejectFiles(ctx); err != nil {
		return err
	}
	for _, f := range r.out.Files {
		if f.Rejected && f.Moved != "" {
			t.notify(t.notes.rejected(f)) // an inbox file, now in rejected/
		}
	}
	if len(r.accepted) == 0 {
		var why []string
		for _, f := range r.out.Files {
			why = append(why, f.Name+": "+f.Reason)
		}
		msg := "every new file was rejected: " + strings.Join(why, "; ")
		return temporal.NewNonRetryableApplicationError(msg, steps.ErrInvalidData, nil)
	}
	return nil
}

// rejectFiles moves the rejected inbox files to rejected/ with a reason.
func (r *retrainRun) rejectFiles(ctx workflow.Context) error {
	var rejected []pipeline.NewData
	for _, f := range r.in.Files {
		for _, o := range r.out.Files {
			if o.SHA256 == f.SHA256 && o.Rejected && f.InboxKey != "" {
				rejected = append(rejected, f)
			}
		}
	}
	if len(rejected) == 0 {
		return nil
	}
	var moved steps.RejectResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.RejectFiles,
		steps.RejectInput{Files: rejected, Why: r.out.Files}).Get(ctx, &moved); err != nil {
		return err
	}
	for i := range r.out.Files {
		r.out.Files[i].Moved = moved.Moved[r.out.Files[i].SHA256]
	}
	return nil
}

func (r *retrainRun) merge(ctx workflow.Context, t *tracker) error {
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, ingestOptions()), steps.Merge, steps.MergeInput{
		Ticker: r.ticker, Base: r.out.Base.Raw, Files: r.accepted,
	}).Get(ctx, &r.merged); err != nil {
		return err
	}
	r.out.Raw, r.out.Parents, t.rec.Data.Raw = r.merged.Raw, r.merged.Parents, r.merged.Raw
	t.rec.Data.CSV = r.mergedCSVs()[0] // the first new file merged (the lineage lists them all)
	r.out.Mode, r.out.ModeReason = chooseMode(r.opts, r.out.Drift)
	t.ui.memo(map[string]any{memoMode: "retrain " + r.out.Mode, memoDataVersion: dataVersion(r.merged.Raw),
		memoBase: fmt.Sprintf("v%d (%s)", r.out.Base.Version, r.out.Base.Why)})
	return nil
}

// chooseMode applies --mode auto: full when drift passes the threshold.
func chooseMode(o pipeline.RetrainOptions, d pipeline.Drift) (string, string) {
	drift := fmt.Sprintf("largest drift: Jensen–Shannon %.4f on %s, threshold %g", d.MaxJS, d.Feature, d.Threshold)
	switch {
	case o.Mode == pipeline.ModeFull:
		return pipeline.ModeFull, "--mode full was asked for; " + drift
	case o.Mode == pipeline.ModeFinetune:
		return pipeline.ModeFinetune, "--mode finetune, the default; " + drift
	case d.Exceeded:
		return pipeline.ModeFull, "--mode auto: " + drift + ", passed: retrain from scratch"
	default:
		return pipeline.ModeFinetune, "--mode auto: " + drift + ", not passed: fine-tune"
	}
}

func (r *retrainRun) split(ctx workflow.Context, t *tracker) error {
	b := r.out.Base
	tail := &prep.TailSplit{NewFrom: r.merged.NewFrom, Val: r.opts.ValFraction, Test: r.opts.TestFraction, Context: b.Lookback + b.Horizon - 1}
	if err := local(ctx, steps.Split, steps.SplitInput{Raw: r.merged.Raw, Tail: tail}, &r.splits); err != nil {
		return err
	}
	t.rec.Data.Splits = [3]blob.Ref{r.splits.Train, r.splits.Val, r.splits.Test}
	return nil
}

func (r *retrainRun) clean(ctx workflow.Context, t *tracker) error {
	if err := local(ctx, steps.Clean, steps.CleanInput{Splits: r.splits, Spec: r.out.Base.Clean}, &r.cleaned); err != nil {
		return err
	}
	t.rec.Data.Cleaned = [3]blob.Ref{r.cleaned.Splits.Train, r.cleaned.Splits.Val, r.cleaned.Splits.Test}
	return nil
}

// scaleStep keeps the base's fitted transform when fine-tuning (the
// weights only make sense on its scale) and fits a new one in full mode.
func (r *retrainRun) scaleStep(ctx workflow.Context, _ *tracker) error {
	if r.out.Mode == pipeline.ModeFinetune {
		r.scale = r.out.Base.Transform
		return nil
	}
	var scaled steps.ScaleResult
	if err := local(ctx, steps.Scale, steps.ScaleInput{Splits: r.cleaned.Splits, Spec: r.out.Base.Spec, Horizon: r.out.Base.Horizon}, &scaled); err != nil {
		return err
	}
	r.scale = scaled.Transform
	return nil
}

func (r *retrainRun) window(ctx workflow.Context, t *tracker) error {
	var err error
	r.windows, err = windowSplits(ctx, t, r.scale, r.cleaned.Splits, r.out.Base.Lookback)
	r.out.Windows = [3]int{r.windows.Train.Rows, r.windows.Val.Rows, r.windows.Test.Rows}
	return err
}

func (r *retrainRun) train(ctx workflow.Context, _ *tracker) error {
	in := steps.TrainInput{RunID: r.runID, Windows: r.windows}
	r.params, in.Init = retrainParams(r.out.Base, r.in.Options, r.out.Mode)
	in.Params = r.params
	var err error
	r.trained, err = trainModel(ctx, r.queue, in)
	r.out.Curve, r.out.Training = r.trained.Curve, r.trained.TrainingRun
	return err
}

// retrainParams are the base's (tuned) hyperparameters, and for a
// fine-tune a lower learning rate, fewer epochs, early stopping and the
// base's weights to start from. Options the user set win.
func retrainParams(b pipeline.BaseModel, o pipeline.RetrainOptions, mode string) (pipeline.ModelParams, *blob.Ref) {
	p := b.Params
	var init *blob.Ref
	if mode == pipeline.ModeFinetune {
		p.Epochs, p.LearningRate, p.Patience = finetuneEpochs, p.LearningRate*finetuneLRFactor, finetunePatience
		p.LRDecay = 0
		w := b.Weights
		init = &w
	}
	if o.Epochs > 0 {
		p.Epochs = o.Epochs
	}
	if o.LearningRate > 0 {
		p.LearningRate = o.LearningRate
	}
	if o.Patience > 0 {
		p.Patience = o.Patience
	}
	return p, init
}

func (r *retrainRun) evaluate(ctx workflow.Context, t *tracker) error {
	var err error
	r.eval, err = evaluateModel(ctx, r.queue, steps.EvaluateInput{
		RunID: r.runID, Weights: r.trained.Weights, Config: r.trained.Config, Transform: r.scale, Test: r.windows.Test, Val: r.windows.Val})
	r.out.Metrics, t.predictions = r.eval.Metrics, r.eval.Predictions
	return err
}

// compare scores the base version on the new model's test days.
func (r *retrainRun) compare(ctx workflow.Context, _ *tracker) error {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, evaluateOptions(r.queue)), steps.Compare, steps.CompareInput{
		Ticker: r.ticker, Base: r.out.Base.Version, Predictions: r.eval.Predictions, Test: r.cleaned.Splits.Test,
	}).Get(ctx, &r.out.Comparison)
}

func (r *retrainRun) register(ctx workflow.Context, _ *tracker) error {
	b := r.out.Base
	names := r.mergedCSVs()
	reg, err := registerModel(ctx, steps.RegisterInput{
		Ticker: r.ticker, RunID: r.runID, Weights: r.trained.Weights, Transform: r.scale, Config: r.trained.Config,
		Lookback: b.Lookback, Horizon: b.Horizon, Params: r.params, Metrics: r.eval.Metrics, Raw: r.merged.Raw, CSVKey: names[0],
		Retrain: &steps.RetrainLineage{BaseVersion: b.Version, Mode: r.out.Mode, Parents: r.merged.Parents, Files: names},
	})
	r.out.ModelVersion, r.out.ModelURI = reg.Version, reg.URI
	if err == nil && len(r.out.Comparison.Scores) > 0 {
		r.out.Comparison.Scores[0].Name, r.out.Comparison.Scores[0].Version = fmt.Sprintf("v%d (new)", reg.Version), reg.Version
	}
	return err
}

// mergedCSVs are the uploads of the files that were merged (not rejected).
func (r *retrainRun) mergedCSVs() []string {
	var out []string
	for _, f := range r.in.Files {
		for _, o := range r.out.Files {
			if o.SHA256 == f.SHA256 && !o.Rejected {
				out = append(out, f.CSVKey)
				break
			}
		}
	}
	return out
}

func (r *retrainRun) promote(ctx workflow.Context, t *tracker) error {
	var err error
	r.out.Promotion, err = promoteModel(ctx, t, steps.PromoteInput{
		Ticker: r.ticker, RunID: r.runID, Version: r.out.ModelVersion, Predictions: r.eval.Predictions, Test: r.cleaned.Splits.Test,
		Margin: r.opts.PromotionMargin, Force: r.opts.ForcePromote,
	})
	return err
}
