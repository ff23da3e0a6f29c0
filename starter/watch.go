package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
)

// Polling of a running workflow while the starter follows it.
var (
	// watchEvery is how often train/retrain --wait poll (watch has --every).
	watchEvery = time.Second
	// progressQueryTimeout bounds one progress query: with no worker
	// polling, a query waits until its deadline.
	progressQueryTimeout = 5 * time.Second
	// describeRetries is how many Describe errors in a row a follow
	// survives (a frontend restarting) before it gives up.
	describeRetries = 10
)

// queryProgress asks workflow id (run runID, "" = its latest) for its
// progress query.
func queryProgress(ctx context.Context, c client.Client, id, runID string) (pipeline.Progress, error) {
	ctx, cancel := context.WithTimeout(ctx, progressQueryTimeout)
	defer cancel()
	var p pipeline.Progress
	v, err := c.QueryWorkflow(ctx, id, runID, pipeline.ProgressQuery)
	if err != nil {
		return p, fmt.Errorf("query %s of %s: %w", pipeline.ProgressQuery, id, err)
	}
	if err := v.Get(&p); err != nil {
		return p, fmt.Errorf("decode %s of %s: %w", pipeline.ProgressQuery, id, err)
	}
	return p, nil
}

// noProgressQuery reports whether err says the workflow has no progress
// query at all (a workflow type without one), so asking again is useless.
func noProgressQuery(err error) bool {
	return err != nil && strings.Contains(err.Error(), "unknown queryType")
}

// follow polls workflow id (run runID; "" = the latest) every so often
// until it closes, showing its progress query in view, and returns its
// last description. A run that continues as new is followed into its next
// run. Progress query errors are skipped (no worker yet, a workflow
// without the query); Describe errors end it after describeRetries in a
// row, at once when the workflow does not exist.
func follow(ctx context.Context, c client.Client, id, runID string, view progressView, every time.Duration) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	queryable, failures := true, 0
	for {
		d, err := c.DescribeWorkflowExecution(ctx, id, runID)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			return nil, fmt.Errorf("no workflow %s: %w", id, err)
		case err != nil:
			if failures++; failures > describeRetries || ctx.Err() != nil {
				return nil, fmt.Errorf("describe %s: %w", id, err)
			}
		default:
			failures = 0
			switch d.GetWorkflowExecutionInfo().GetStatus() {
			case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
				if queryable {
					p, err := queryProgress(ctx, c, id, runID)
					if err == nil {
						view.update(p)
					}
					queryable = !noProgressQuery(err)
				}
			case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
				runID = "" // the next run: the latest
				continue
			default:
				return d, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(every):
		}
	}
}

// statusOf is a description's status ("Running", "Completed", "Failed",
// "Canceled", "Terminated", "TimedOut", "ContinuedAsNew").
func statusOf(d *workflowservice.DescribeWorkflowExecutionResponse) enumspb.WorkflowExecutionStatus {
	return d.GetWorkflowExecutionInfo().GetStatus()
}

// closedError is the error a workflow that did not complete ended with
// (its failure, or the cancellation or termination), without the SDK's
// wrapper that names the workflow again.
func closedError(ctx context.Context, c client.Client, id, runID string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := c.GetWorkflow(ctx, id, runID).Get(ctx, nil)
	var we *temporal.WorkflowExecutionError
	if errors.As(err, &we) {
		if cause := errors.Unwrap(we); cause != nil {
			return cause
		}
	}
	return err
}

// watch follows a workflow's progress until it ends and prints its result.
func watch(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("watch")
	cfg.FlagsFor(fs, flagsOf(dialFlags(), uiFlag)...)
	every := fs.Duration("every", watchEvery, "how often to ask the workflow for its progress")
	id, err := oneArg(fs, args, "workflow id")
	if err != nil {
		return err
	}
	if *every <= 0 {
		return fmt.Errorf("--every %s: want a positive duration", *every)
	}
	c, err := dial(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := describe(ctx, c, id)
	if err != nil {
		return err
	}
	info := d.GetWorkflowExecutionInfo()
	typ, runID := info.GetType().GetName(), info.GetExecution().GetRunId()
	fmt.Fprintf(stdout, "watching %s (%s)\n  web ui: %s\n", id, typ, cfg.WorkflowURL(id))
	view := newProgressView(stdout)
	final, err := follow(ctx, c, id, runID, view, *every)
	if err != nil {
		return err
	}
	st := statusOf(final)
	runID = final.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	view.finish(st.String(), st == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	if st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		err := closedError(ctx, c, id, runID)
		if err == nil {
			err = errors.New("no error recorded")
		}
		return fmt.Errorf("%s %s: %w", id, strings.ToLower(st.String()), err)
	}
	return printResult(ctx, c, stdout, id, runID, typ)
}

// describe describes workflow id's latest run, saying plainly when there
// is none.
func describe(ctx context.Context, c client.Client, id string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("no workflow %s in this namespace", id)
	}
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", id, err)
	}
	return d, nil
}

// printResult prints a completed workflow's result: the pipelines' for
// people, any other as JSON.
func printResult(ctx context.Context, c client.Client, w io.Writer, id, runID, typ string) error {
	run := c.GetWorkflow(ctx, id, runID)
	switch typ {
	case pipeline.TrainingWorkflow:
		var res pipeline.TrainingResult
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("result of %s: %w", id, err)
		}
		printTrainingResult(w, res)
	case pipeline.RetrainingWorkflow:
		var res pipeline.RetrainingResult
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("result of %s: %w", id, err)
		}
		printRetrainingResult(w, res)
	default:
		var res any
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("result of %s: %w", id, err)
		}
		fmt.Fprintf(w, "%s completed", id)
		if res != nil {
			b, err := json.Marshal(res)
			if err == nil {
				fmt.Fprintf(w, ": %s", b)
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

// workflowStatus is what `starter status` reports.
type workflowStatus struct {
	WorkflowID string            `json:"workflow_id"`
	RunID      string            `json:"run_id"`
	Type       string            `json:"type"`
	Status     string            `json:"status"`
	Stage      string            `json:"stage,omitempty"`
	Epoch      int               `json:"epoch,omitempty"`
	Epochs     int               `json:"epochs,omitempty"`
	TrainLoss  float64           `json:"train_loss,omitempty"`
	ValLoss    float64           `json:"val_loss,omitempty"`
	Started    time.Time         `json:"started"`
	Closed     *time.Time        `json:"closed,omitempty"`
	Memo       map[string]string `json:"memo,omitempty"`
	LastError  string            `json:"last_error,omitempty"`
	WebUI      string            `json:"web_ui"`
}

// showStatus prints a workflow's status once.
func showStatus(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("status")
	cfg.FlagsFor(fs, flagsOf(dialFlags(), uiFlag)...)
	asJSON := fs.Bool("json", false, "print the status as one JSON object")
	id, err := oneArg(fs, args, "workflow id")
	if err != nil {
		return err
	}
	c, err := dial(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := describe(ctx, c, id)
	if err != nil {
		return err
	}
	s := statusReport(ctx, c, d)
	s.WebUI = cfg.WorkflowURL(id)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(s)
	}
	printStatus(stdout, s)
	return nil
}

// statusReport gathers what status shows: the description, the progress
// query of a running workflow (else the Stage search attribute), the memo
// and the last error (a pending activity's last failure, or the
// workflow's own).
func statusReport(ctx context.Context, c client.Client, d *workflowservice.DescribeWorkflowExecutionResponse) workflowStatus {
	info := d.GetWorkflowExecutionInfo()
	ex := info.GetExecution()
	s := workflowStatus{WorkflowID: ex.GetWorkflowId(), RunID: ex.GetRunId(), Type: info.GetType().GetName(),
		Status: info.GetStatus().String(), Started: info.GetStartTime().AsTime().UTC(), Memo: payloadStrings(info.GetMemo().GetFields())}
	if ct := info.GetCloseTime(); ct != nil && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t := ct.AsTime().UTC()
		s.Closed = &t
	}
	s.Stage = payloadStrings(info.GetSearchAttributes().GetIndexedFields())["Stage"]
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if p, err := queryProgress(ctx, c, s.WorkflowID, s.RunID); err == nil {
			if p.Stage != "" {
				s.Stage = p.Stage
			}
			s.Epoch, s.Epochs, s.TrainLoss, s.ValLoss = p.Epoch, p.Epochs, p.TrainLoss, p.ValLoss
		}
		for _, a := range d.GetPendingActivities() {
			if f := a.GetLastFailure(); f != nil {
				s.LastError = fmt.Sprintf("%s (attempt %d): %s", a.GetActivityType().GetName(), a.GetAttempt(), f.GetMessage())
			}
		}
		return s
	}
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		if err := closedError(ctx, c, s.WorkflowID, s.RunID); err != nil {
			s.LastError = err.Error()
		}
	}
	return s
}

// printStatus prints a status for people.
func printStatus(w io.Writer, s workflowStatus) {
	fmt.Fprintf(w, "workflow:   %s (%s)\n", s.WorkflowID, s.Type)
	fmt.Fprintf(w, "run id:     %s\n", s.RunID)
	when := "started " + s.Started.Format(time.RFC3339)
	if s.Closed != nil {
		when += ", closed " + s.Closed.Format(time.RFC3339) + " after " + s.Closed.Sub(s.Started).Round(time.Second).String()
	}
	fmt.Fprintf(w, "status:     %s (%s)\n", s.Status, when)
	stage := s.Stage
	if stage == "" {
		stage = "-"
	}
	fmt.Fprintf(w, "stage:      %s\n", stage)
	if s.Epochs > 0 {
		fmt.Fprintf(w, "epoch:      %d/%d (loss %.4g, val %.4g)\n", s.Epoch, s.Epochs, s.TrainLoss, s.ValLoss)
	} else {
		fmt.Fprintf(w, "epoch:      -\n")
	}
	if len(s.Memo) > 0 {
		keys := make([]string, 0, len(s.Memo))
		for k := range s.Memo {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "memo:\n")
		for _, k := range keys {
			fmt.Fprintf(w, "  %-12s %s\n", k+":", s.Memo[k])
		}
	}
	lastErr := s.LastError
	if lastErr == "" {
		lastErr = "-"
	}
	fmt.Fprintf(w, "last error: %s\n", lastErr)
	fmt.Fprintf(w, "web ui:     %s\n", s.WebUI)
}

// payloadStrings decodes memo or search attribute payloads, each as text
// (a string as is, anything else as its JSON).
func payloadStrings(fields map[string]*commonpb.Payload) map[string]string {
	if len(fields) == 0 {
		return nil
	}
	dc := converter.GetDefaultDataConverter()
	out := make(map[string]string, len(fields))
	for k, p := range fields {
		var v any
		if err := dc.FromPayload(p, &v); err != nil {
			continue
		}
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		if b, err := json.Marshal(v); err == nil {
			out[k] = string(b)
		}
	}
	return out
}

// cancelWorkflow asks a workflow to cancel, waits up to --wait for it to
// end and reports how it ended.
func cancelWorkflow(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("cancel")
	cfg.FlagsFor(fs, dialFlags()...)
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the workflow to end after asking")
	id, err := oneArg(fs, args, "workflow id")
	if err != nil {
		return err
	}
	if *wait < 0 {
		return fmt.Errorf("--wait %s: want a duration of 0 or more", *wait)
	}
	c, err := dial(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := describe(ctx, c, id)
	if err != nil {
		return err
	}
	info := d.GetWorkflowExecutionInfo()
	runID := info.GetExecution().GetRunId()
	if st := info.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fmt.Errorf("%s is not running: it is %s", id, strings.ToLower(st.String()))
	}
	if err := c.CancelWorkflow(ctx, id, runID); err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	fmt.Fprintf(stdout, "cancellation of %s (%s) requested; waiting up to %s for it to end\n", id, info.GetType().GetName(), *wait)
	final, err := waitClosed(ctx, c, id, runID, *wait)
	if err != nil {
		return err
	}
	if final == nil {
		return fmt.Errorf("%s is still running after %s: it may be cleaning up (starter status %s shows when it ends)", id, *wait, id)
	}
	s := statusReport(ctx, c, final)
	fmt.Fprintf(stdout, "%s: %s", id, s.Status)
	if s.Stage != "" {
		fmt.Fprintf(stdout, " (stage %s)", s.Stage)
	}
	fmt.Fprintln(stdout)
	if statusOf(final) != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		return fmt.Errorf("%s ended %s, not cancelled: %s", id, strings.ToLower(s.Status), s.LastError)
	}
	return nil
}

// waitClosed polls a run until it is no longer running, for up to limit;
// nil when it still runs then.
func waitClosed(ctx context.Context, c client.Client, id, runID string, limit time.Duration) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	deadline := time.Now().Add(limit)
	for {
		d, err := c.DescribeWorkflowExecution(ctx, id, runID)
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", id, err)
		}
		if statusOf(d) != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return d, nil
		}
		if !time.Now().Before(deadline) {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(200*time.Millisecond, time.Until(deadline)+time.Millisecond)):
		}
	}
}
