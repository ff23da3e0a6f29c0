package workflows

import (
	"maps"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// Search attributes the pipelines set, for filtering in the Web UI
// (`Ticker = "NFLX" and Stage = "train"`). The server must know them:
// make up / the tests' dev server register them at start.
var (
	attrTicker       = temporal.NewSearchAttributeKeyKeyword("Ticker")
	attrStage        = temporal.NewSearchAttributeKeyKeyword("Stage")
	attrModelVersion = temporal.NewSearchAttributeKeyInt64("ModelVersion")
)

// tracker keeps the run record of a pipeline up to date: each step's
// start and wall time (workflow time, so replays agree), the live stage for
// the progress query and search attributes, and saves the record to the
// store after every step.
type tracker struct {
	ctx         workflow.Context
	rec         runs.Record
	progress    pipeline.Progress
	index       bool // set search attributes (the server has them)
	predictions blob.Ref
	notes       *notices // the run's notifications (notify.go); nil: none
	ui          *webUI   // the run's memo in the Web UI (memo.go); nil: none
}

// newTracker starts the record of a run of ticker; index sets search
// attributes; fill adds the pipeline's own input to the record.
func newTracker(ctx workflow.Context, ticker string, index bool, fill func(*runs.Record)) (*tracker, error) {
	info := workflow.GetInfo(ctx)
	t := &tracker{ctx: ctx, index: index, rec: runs.Record{
		ID: info.WorkflowExecution.ID, Workflow: info.WorkflowType.Name, Ticker: ticker, Status: runs.StatusRunning,
		StartedAt: workflow.Now(ctx).UTC(),
	}}
	fill(&t.rec)
	if err := workflow.SetQueryHandler(ctx, pipeline.ProgressQuery, func() (pipeline.Progress, error) { return t.progress, nil }); err != nil {
		return nil, err
	}
	sig := workflow.GetSignalChannel(ctx, pipeline.ProgressSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var p pipeline.Progress
			if !sig.Receive(ctx, &p) {
				return
			}
			p.Stage = t.progress.Stage
			t.progress = p
		}
	})
	if t.index {
		if err := workflow.UpsertTypedSearchAttributes(ctx, attrTicker.ValueSet(ticker)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// begin marks the start of a step.
func (t *tracker) begin(step string) {
	t.rec.Stage, t.progress.Stage = step, step
	t.rec.Steps = append(t.rec.Steps, runs.Step{Name: step, StartedAt: workflow.Now(t.ctx).UTC()})
	t.upsert(attrStage.ValueSet(step))
}

// step runs one named step of a pipeline: it marks the step begun (in the
// record, the progress query and the Stage search attribute), runs fn, and
// closes the step and saves the record; a failure comes back named for the
// step (see stepFailed), with its error type kept.
func (t *tracker) step(name string, fn func() error) error {
	t.begin(name)
	if err := fn(); err != nil {
		return stepFailed(name, err)
	}
	t.end()
	return nil
}

// pipelineStep is one named step of a pipeline; skip leaves it out (no
// record, no progress) for this run.
type pipelineStep struct {
	name string
	run  func(workflow.Context, *tracker) error
	skip bool
}

// runSteps runs the pipeline steps in list, in order, through step and
// stops at the first failure.
func (t *tracker) runSteps(ctx workflow.Context, list []pipelineStep) error {
	for _, s := range list {
		if s.skip {
			continue
		}
		if err := t.step(s.name, func() error { return s.run(ctx, t) }); err != nil {
			return err
		}
	}
	return nil
}

// end closes the current step and saves the record.
func (t *tracker) end() {
	if n := len(t.rec.Steps); n > 0 {
		s := &t.rec.Steps[n-1]
		s.WallMS = workflow.Now(t.ctx).Sub(s.StartedAt).Milliseconds()
	}
	t.save()
}

// close ends the run: it records the outcome (version is the model the
// run registered, 0 for none) and, when withReport, renders the run's
// efficacy report and returns its URI ("" when it could not be rendered).
//
// The report is rendered first, from the finished record, and the record
// is then saved once, completed and listing the report: whoever sees the
// run completed (the record, the Stage search attribute) finds its report.
// Runs started before this order keep theirs (finish, then report), so
// their histories replay.
func (t *tracker) close(version int, err error, withReport bool) string {
	if workflow.GetVersion(t.ctx, "report-before-finish", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		t.finish(version, err)
		if !withReport {
			return ""
		}
		uri, ok := t.report(nil)
		if ok {
			t.save()
		}
		return uri
	}
	t.conclude(err)
	uri := ""
	if withReport {
		// The store's record gets the result (still "running"), the
		// report renders it as finished, then the record says finished.
		pending := t.rec
		pending.Status, pending.FinishedAt, pending.Error = runs.StatusRunning, nil, ""
		t.saveRecord(pending)
		uri, _ = t.report(&runs.Final{Status: t.rec.Status, FinishedAt: *t.rec.FinishedAt, Error: t.rec.Error})
	}
	t.publish(version)
	return uri
}

// finish records the outcome and saves the record.
func (t *tracker) finish(version int, err error) {
	t.conclude(err)
	t.publish(version)
}

// conclude records the outcome in the record: finish time, status, error.
func (t *tracker) conclude(err error) {
	now := workflow.Now(t.ctx).UTC()
	t.rec.FinishedAt = &now
	t.rec.Status = runs.StatusCompleted
	if err != nil {
		t.rec.Status, t.rec.Error = runs.StatusFailed, err.Error()
		if temporal.IsCanceledError(err) {
			t.rec.Status = runs.StatusCancelled
		}
		if n := len(t.rec.Steps); n > 0 && t.rec.Steps[n-1].WallMS == 0 {
			t.rec.Steps[n-1].WallMS = now.Sub(t.rec.Steps[n-1].StartedAt).Milliseconds()
		}
	}
}

// publish sets the final search attributes (model version, status as the
// stage) and saves the record.
func (t *tracker) publish(version int) {
	if version > 0 {
		t.upsert(attrModelVersion.ValueSet(int64(version)))
	}
	t.upsert(attrStage.ValueSet(t.rec.Status))
	t.save()
}

// upsert sets search attributes when the tracker indexes the run. A
// failure (an attribute the server does not know) is logged: the
// attributes help find runs, the run does not depend on them.
func (t *tracker) upsert(attrs ...temporal.SearchAttributeUpdate) {
	if !t.index {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(t.ctx, attrs...); err != nil {
		workflow.GetLogger(t.ctx).Warn("could not set search attributes", "err", err)
	}
}

// report renders the run's efficacy report and adds its files to the
// record's artifacts, without saving. rec, when not nil, is rendered
// instead of the record saved in the store. A failed report is logged and
// leaves the run's result as it is (ok is false).
func (t *tracker) report(final *runs.Final) (uri string, ok bool) {
	ctx := workflow.WithActivityOptions(t.ctx, renderOptions())
	var out steps.ReportResult
	err := workflow.ExecuteActivity(ctx, steps.Report, steps.ReportInput{RunID: t.rec.ID, Predictions: t.predictions, Final: final}).Get(ctx, &out)
	if err != nil {
		workflow.GetLogger(t.ctx).Warn("could not render the run report", "err", err)
		return "", false
	}
	t.addArtifacts(out.Artifacts)
	return out.Artifacts["report"], true
}

// save writes the record through a local activity; a failure to save is
// logged, not fatal: the record is a view of the run, the run is the truth.
// It runs even when the workflow is being cancelled.
func (t *tracker) save() { t.saveRecord(t.rec) }

// saveRecord writes rec as the run's record (see save).
func (t *tracker) saveRecord(rec runs.Record) {
	dctx, _ := workflow.NewDisconnectedContext(t.ctx)
	ctx := workflow.WithLocalActivityOptions(dctx, transformOptions())
	if err := workflow.ExecuteLocalActivity(ctx, steps.SaveRun, rec).Get(ctx, nil); err != nil {
		workflow.GetLogger(t.ctx).Warn("could not save the run record", "err", err)
	}
}

// addArtifacts records artifacts of the run (name → URI) in a new map:
// records saved before keep theirs.
func (t *tracker) addArtifacts(add map[string]string) {
	artifacts := make(map[string]string, len(t.rec.Artifacts)+len(add))
	maps.Copy(artifacts, t.rec.Artifacts) //workflowcheck:ignore copying a map does not depend on the order
	maps.Copy(artifacts, add)             //workflowcheck:ignore copying a map does not depend on the order
	t.rec.Artifacts = artifacts
}

// plotsFolder records the data plots as artifacts and returns their folder.
func (t *tracker) plotsFolder(plots map[string]string) string {
	if t.rec.Artifacts == nil {
		t.rec.Artifacts = map[string]string{}
	}
	folder := ""
	// The order does not matter: each entry is set, and folder is the least.
	//workflowcheck:ignore
	for name, uri := range plots {
		t.rec.Artifacts[name] = uri
		if i := strings.LastIndex(uri, "/"); i > 0 && (folder == "" || uri[:i] < folder) {
			folder = uri[:i]
		}
	}
	return folder
}
