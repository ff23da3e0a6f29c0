package workflows

import (
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// FleetPipeline trains (or retrains, or only prepares) many tickers: one
// child workflow per ticker, at most Parallel at once; a prepare fleet
// runs groups of tickers per activity instead, since its steps take
// milliseconds each. One ticker's failure never fails the fleet: it is
// listed with its reason. After PerRun children (or when the server
// suggests it) the fleet lets the running ones finish and continues as new
// with what is left, so hundreds of tickers never grow one history large.
// At the end it writes its report (fleets/<id>/fleet.json and report.csv).
func FleetPipeline(ctx workflow.Context, in pipeline.FleetInput) (pipeline.FleetResult, error) {
	in = in.WithDefaults()
	f := &fleet{in: in, id: workflow.GetInfo(ctx).WorkflowExecution.ID}
	if in.State == nil {
		if err := in.Check(); err != nil {
			return pipeline.FleetResult{}, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
		}
		st, err := f.firstState(ctx)
		if err != nil {
			return pipeline.FleetResult{}, err
		}
		f.in.State = st
	}
	f.st = f.in.State
	f.st.Runs++
	if err := workflow.SetQueryHandler(ctx, pipeline.ProgressQuery, f.progress); err != nil {
		return pipeline.FleetResult{}, err
	}
	run := f.runChildren
	if in.Kind == pipeline.FleetPrepare {
		run = f.runGroups
	}
	if err := run(ctx); err != nil {
		return pipeline.FleetResult{}, err
	}
	if len(f.st.Queue) > 0 {
		next := f.in
		next.Items, next.Prefix = nil, ""
		return pipeline.FleetResult{}, workflow.NewContinueAsNewError(ctx, pipeline.FleetWorkflow, next)
	}
	return f.finish(ctx)
}

// fleet is one run of a FleetPipeline.
type fleet struct {
	in      pipeline.FleetInput
	id      string
	st      *pipeline.FleetState
	running []string // tickers running now, in start order
}

// firstState lists the fleet's tickers: its items, and the files under
// its prefix (files not named after a ticker are listed as failed).
func (f *fleet) firstState(ctx workflow.Context) (*pipeline.FleetState, error) {
	st := &pipeline.FleetState{Started: workflow.Now(ctx)}
	seen := map[string]bool{}
	add := func(it pipeline.FleetItem) {
		t, err := pipeline.NormalizeTicker(it.Ticker)
		if err != nil {
			st.Done = append(st.Done, pipeline.FleetOutcome{Ticker: it.Ticker, Status: pipeline.FleetFailed, Reason: err.Error()})
			return
		}
		if seen[t] {
			st.Done = append(st.Done, pipeline.FleetOutcome{Ticker: t, Status: pipeline.FleetFailed,
				Reason: "another file of the fleet is also " + t + ": " + it.Name})
			return
		}
		seen[t], it.Ticker = true, t
		st.Queue = append(st.Queue, it)
	}
	for _, it := range f.in.Items {
		add(it)
	}
	if f.in.Prefix != "" {
		var listed steps.ListFleetResult
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.ListFleetFiles,
			steps.ListFleetInput{Prefix: f.in.Prefix}).Get(ctx, &listed); err != nil {
			return nil, stepFailed("list files", err)
		}
		for _, it := range listed.Items {
			add(it)
		}
		st.Done = append(st.Done, listed.Skipped...)
	}
	if len(st.Queue) == 0 {
		err := errors.New("the fleet has no ticker to run: no item, and no CSV named after a ticker under " + f.in.Prefix)
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), steps.ErrInvalidParams, err)
	}
	return st, nil
}

// progress answers the progress query.
func (f *fleet) progress() (pipeline.FleetProgress, error) {
	p := pipeline.FleetProgress{Kind: f.in.Kind, Running: slices.Clone(f.running), Queued: len(f.st.Queue), Runs: f.st.Runs}
	for _, o := range f.st.Done {
		p.Done++
		if o.Status == pipeline.FleetFailed {
			p.Failed++
		}
	}
	p.Total = p.Done + len(p.Running) + p.Queued
	return p, nil
}

// moreThisRun reports whether this run may start another child (group).
func (f *fleet) moreThisRun(ctx workflow.Context, started int) bool {
	return len(f.st.Queue) > 0 && started < f.in.PerRun && !workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

func (f *fleet) take(n int) []pipeline.FleetItem {
	n = min(n, len(f.st.Queue))
	items := f.st.Queue[:n:n]
	f.st.Queue = f.st.Queue[n:]
	for _, it := range items {
		f.running = append(f.running, it.Ticker)
	}
	return items
}

func (f *fleet) finished(items []pipeline.FleetItem, outcomes []pipeline.FleetOutcome) {
	for _, it := range items {
		if i := slices.Index(f.running, it.Ticker); i >= 0 {
			f.running = slices.Delete(f.running, i, i+1)
		}
	}
	f.st.Done = append(f.st.Done, outcomes...)
}

// runChildren runs a child workflow per ticker, at most Parallel at once,
// until the queue is empty or this run has started its share; it waits for
// every child it started.
func (f *fleet) runChildren(ctx workflow.Context) error {
	return f.runAtMost(ctx, 1, func(items []pipeline.FleetItem) workflow.Future {
		return f.startChild(ctx, items[0])
	}, func(items []pipeline.FleetItem, fu workflow.Future, took time.Duration) []pipeline.FleetOutcome {
		o := f.childOutcome(ctx, fu, items[0])
		o.Seconds = took.Seconds()
		return []pipeline.FleetOutcome{o}
	})
}

// runAtMost takes size items off the queue at a time and starts them,
// keeping at most Parallel running, until the queue is empty or this run
// has started its share; ended reads the outcomes of what start began.
func (f *fleet) runAtMost(ctx workflow.Context, size int, start func([]pipeline.FleetItem) workflow.Future,
	ended func([]pipeline.FleetItem, workflow.Future, time.Duration) []pipeline.FleetOutcome) error {
	sel := workflow.NewSelector(ctx)
	started, inflight := 0, 0
	for {
		for inflight < f.in.Parallel && f.moreThisRun(ctx, started) && ctx.Err() == nil {
			items := f.take(size)
			begin := workflow.Now(ctx)
			fut := start(items)
			started, inflight = started+1, inflight+1
			sel.AddFuture(fut, func(fu workflow.Future) {
				inflight--
				f.finished(items, ended(items, fu, workflow.Now(ctx).Sub(begin)))
			})
		}
		if inflight == 0 {
			break
		}
		sel.Select(ctx)
	}
	if ctx.Err() != nil {
		return temporal.NewCanceledError("fleet cancelled")
	}
	return nil
}

// startChild starts the ticker's training or retraining. Its id is the
// fleet's and the ticker's, so a ticker runs once per fleet whatever
// happens to workers; cancelling the fleet cancels it.
func (f *fleet) startChild(ctx workflow.Context, it pipeline.FleetItem) workflow.ChildWorkflowFuture {
	opts := workflow.ChildWorkflowOptions{
		WorkflowID:          pipeline.FleetChildID(f.id, it.Ticker),
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
	}
	cctx := workflow.WithChildOptions(ctx, opts)
	if f.in.Kind == pipeline.FleetRetraining {
		return workflow.ExecuteChildWorkflow(cctx, pipeline.RetrainingWorkflow, pipeline.RetrainingInput{
			Ticker: it.Ticker, Options: f.in.Retrain, Config: f.in.Training.Validate, Device: f.in.Training.Device,
			SearchAttributes: f.in.Training.SearchAttributes,
			Files:            []pipeline.NewData{{CSVKey: it.CSVKey, Format: it.Format, Source: "fleet:" + f.id, Name: it.Name, Arrived: workflow.Now(ctx)}},
		})
	}
	in := f.in.Training
	in.Ticker, in.CSVKey, in.Format, in.Source = it.Ticker, it.CSVKey, it.Format, "fleet "+f.id
	return workflow.ExecuteChildWorkflow(cctx, pipeline.TrainingWorkflow, in)
}

// childOutcome reads how a ticker's child ended.
func (f *fleet) childOutcome(ctx workflow.Context, fu workflow.Future, it pipeline.FleetItem) pipeline.FleetOutcome {
	o := pipeline.FleetOutcome{Ticker: it.Ticker, WorkflowID: pipeline.FleetChildID(f.id, it.Ticker), Status: pipeline.FleetCompleted}
	var err error
	if f.in.Kind == pipeline.FleetRetraining {
		var res pipeline.RetrainingResult
		if err = fu.Get(ctx, &res); err == nil {
			o.ModelVersion, o.TestDays = res.ModelVersion, res.Metrics.N
			o.RMSE, o.NaiveRMSE = res.Metrics.TestRMSE, res.Metrics.NaiveRMSE
			o.Alias, o.Promoted = res.Promotion.Alias, res.Promotion.Promoted
			if res.Metrics.NaiveMAE > 0 {
				o.MASE = res.Metrics.TestMAE / res.Metrics.NaiveMAE
			}
		}
	} else {
		var res pipeline.TrainingResult
		if err = fu.Get(ctx, &res); err == nil {
			o.ModelVersion, o.TestDays = res.ModelVersion, res.Metrics.N
			o.RMSE, o.NaiveRMSE = res.Metrics.TestRMSE, res.Metrics.NaiveRMSE
			o.MASE, o.DMP = finiteOr0(float64(res.Efficacy.Overall.MASE)), finiteOr0(float64(res.Efficacy.Overall.DMPValue))
			o.Alias, o.Promoted = res.Promotion.Alias, res.Promotion.Promoted
		}
	}
	if err != nil {
		o.Status, o.Reason = pipeline.FleetFailed, failureReason(err)
	}
	return o
}

// runGroups prepares the tickers a group per activity, at most Parallel
// groups at once.
func (f *fleet) runGroups(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, prepareOptions())
	spec := steps.PrepareSpecOf(f.in.Training)
	return f.runAtMost(ctx, f.in.GroupSize, func(items []pipeline.FleetItem) workflow.Future {
		return workflow.ExecuteActivity(actx, steps.PrepareTickers, steps.PrepareInput{Items: items, Spec: spec})
	}, func(items []pipeline.FleetItem, fu workflow.Future, _ time.Duration) []pipeline.FleetOutcome {
		var res steps.PrepareResult
		if err := fu.Get(ctx, &res); err != nil {
			return failedAll(items, "prepare failed: "+failureReason(err))
		}
		return res.Outcomes
	})
}

func failedAll(items []pipeline.FleetItem, reason string) []pipeline.FleetOutcome {
	out := make([]pipeline.FleetOutcome, len(items))
	for i, it := range items {
		out[i] = pipeline.FleetOutcome{Ticker: it.Ticker, Status: pipeline.FleetFailed, Reason: reason}
	}
	return out
}

// finish sums the fleet up and writes its report.
func (f *fleet) finish(ctx workflow.Context) (pipeline.FleetResult, error) {
	outcomes := slices.Clone(f.st.Done)
	slices.SortStableFunc(outcomes, func(a, b pipeline.FleetOutcome) int { return strings.Compare(a.Ticker, b.Ticker) })
	res := pipeline.FleetResult{FleetID: f.id, Kind: f.in.Kind, Started: f.st.Started, Finished: workflow.Now(ctx),
		Outcomes: outcomes, Totals: pipeline.FleetTotalsOf(outcomes), Runs: f.st.Runs}
	var rep steps.FleetReportResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, registerOptions()), steps.FleetReport,
		steps.FleetReportInput{Result: res}).Get(ctx, &rep); err != nil {
		return res, stepFailed("fleet report", err)
	}
	res.Report, res.CSV = rep.Report, rep.CSV
	return res, nil
}

// failureReason is what a failed child or step says went wrong: the
// message of its outermost application error (which names the step),
// else the innermost message.
func failureReason(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Message() != "" {
		return appErr.Message()
	}
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return "cancelled"
	}
	return rootMessage(err)
}

func finiteOr0(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// prepareOptions: a group of tickers through the data chain; heartbeats
// after each ticker, so a dead worker is noticed within a minute and the
// group is retried on another (every step of the chain is idempotent).
func prepareOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		HeartbeatTimeout:       time.Minute,
		RetryPolicy:            retry(time.Second, 30*time.Second, 0),
	}
}
