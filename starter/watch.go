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

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

// Polling of a running workflow while the starter follows it.
var (
	// watchEvery is how often train/retrain --wait poll (watch has --every).
	watchEvery = time.Second
	// describeRetries is how many Describe errors in a row a follow
	// survives (a frontend restarting) before it gives up.
	describeRetries = 10
)

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
					p, err := launch.QueryProgress(ctx, c, id, runID)
					if err == nil {
						view.update(p)
					}
					queryable = !launch.NoProgressQuery(err)
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
		err := launch.ClosedError(ctx, c, id, runID)
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
	s := launch.StatusReport(ctx, c, d)
	s.WebUI = cfg.WorkflowURL(id)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(s)
	}
	printStatus(stdout, s)
	return nil
}

// printStatus prints a status for people.
func printStatus(w io.Writer, s launch.WorkflowStatus) {
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
	s := launch.StatusReport(ctx, c, final)
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
