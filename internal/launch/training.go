package launch

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// ResolveData finds where a checked request's prices are: up (the CSV that
// came with the request, already stored), the store's CSV named by
// StoreCSV (hashed), or a Yahoo download. It also returns the CSV's
// SHA-256 ("" for a download).
func ResolveData(ctx context.Context, store blob.Store, d pipeline.DataRequest, up *Upload, now time.Time) (pipeline.TrainingData, string, error) {
	if err := d.Check(up != nil); err != nil {
		return pipeline.TrainingData{}, "", err
	}
	format, err := d.CSVFormat()
	if err != nil {
		return pipeline.TrainingData{}, "", err
	}
	if d.Source == pipeline.SourceYahoo {
		dl, err := d.Download(now)
		if err != nil {
			return pipeline.TrainingData{}, "", err
		}
		return pipeline.TrainingData{Download: dl, Label: "Yahoo Finance " + dl.Start + ".." + dl.End}, "", nil
	}
	if up == nil {
		stored, err := StoredCSV(ctx, store, d.StoreCSV)
		if err != nil {
			return pipeline.TrainingData{}, "", err
		}
		up = &stored
	}
	return pipeline.TrainingData{CSVKey: up.Key, Format: format, Label: up.Name}, up.SHA256, nil
}

// Training is a training request made ready to start: the pipeline's
// input and its workflow id.
type Training struct {
	Input pipeline.TrainingInput
	ID    string
}

// PrepareTraining checks r, finds its data (up: the CSV that came with the
// request, already stored; nil when none did) and derives the workflow id
// (pipeline.TrainingWorkflowID). Request errors are *pipeline.FieldError.
func PrepareTraining(ctx context.Context, store blob.Store, r pipeline.TrainRequest, up *Upload, now time.Time) (Training, error) {
	if err := r.Check(up != nil); err != nil {
		return Training{}, err
	}
	data, sum, err := ResolveData(ctx, store, r.DataRequest, up, now)
	if err != nil {
		return Training{}, err
	}
	in := r.Input(data)
	id, err := pipeline.TrainingWorkflowID(in, pipeline.DataIDPart(sum), r.NewRun, now)
	if err != nil {
		return Training{}, err
	}
	return Training{Input: in, ID: id}, nil
}

// StartCase says what starting a training pipeline found.
type StartCase int

const (
	StartedNew       StartCase = iota // a new run started
	AttachedRunning                   // the same request was running: attached to it
	AlreadyCompleted                  // the same request completed earlier: that run
)

// String names the case as the API answers it.
func (s StartCase) String() string {
	switch s {
	case StartedNew:
		return "started"
	case AttachedRunning:
		return "attached"
	case AlreadyCompleted:
		return "already_completed"
	}
	return fmt.Sprintf("StartCase(%d)", int(s))
}

// TrainingStarter is what StartTraining needs of a Temporal client
// (client.Client has it).
type TrainingStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow interface{}, args ...interface{}) (client.WorkflowRun, error)
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
	GetWorkflow(ctx context.Context, workflowID string, runID string) client.WorkflowRun
}

// StartTraining starts the pipeline under opts.ID, or finds the run that
// already has that id, and says which.
//
// Policies, chosen so that the same request trains once:
//   - reuse ALLOW_DUPLICATE_FAILED_ONLY: a run that completed is not run
//     again (its result stands); one that failed, timed out, was cancelled
//     or terminated may be started again under the same id.
//   - conflict FAIL, with WorkflowExecutionErrorWhenAlreadyStarted: a
//     running one makes the start fail with WorkflowExecutionAlreadyStarted,
//     and StartTraining attaches to that run itself. This is what
//     USE_EXISTING does on the server, except that the SDK does not report
//     whether USE_EXISTING started a run or attached to one, and callers
//     say which.
func StartTraining(ctx context.Context, c TrainingStarter, opts client.StartWorkflowOptions, in pipeline.TrainingInput) (client.WorkflowRun, StartCase, error) {
	opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	opts.WorkflowExecutionErrorWhenAlreadyStarted = true
	for attempt := 0; ; attempt++ {
		run, err := c.ExecuteWorkflow(ctx, opts, pipeline.TrainingWorkflow, in)
		var dup *serviceerror.WorkflowExecutionAlreadyStarted
		if !errors.As(err, &dup) {
			if err != nil {
				return nil, 0, fmt.Errorf("start %s %s: %w", pipeline.TrainingWorkflow, opts.ID, err)
			}
			return run, StartedNew, nil
		}
		d, err := c.DescribeWorkflowExecution(ctx, opts.ID, dup.RunId)
		if err != nil {
			return nil, 0, fmt.Errorf("describe %s: %w", opts.ID, err)
		}
		switch d.GetWorkflowExecutionInfo().GetStatus() {
		case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			return c.GetWorkflow(ctx, opts.ID, dup.RunId), AttachedRunning, nil
		case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			return c.GetWorkflow(ctx, opts.ID, dup.RunId), AlreadyCompleted, nil
		}
		// It was running when we started and ended otherwise since: the
		// reuse policy lets the request run again.
		if attempt == 2 {
			return nil, 0, fmt.Errorf("start %s %s: %w", pipeline.TrainingWorkflow, opts.ID, dup)
		}
	}
}

// NewData is the hand-off of an uploaded CSV to its ticker's
// TickerRetrainer (handoff.ToTicker): source says who sent it ("starter",
// "api"), name what the file was called.
func NewData(up Upload, name string, r pipeline.CheckedRetrain, source string, now time.Time) pipeline.NewData {
	return pipeline.NewData{CSVKey: up.Key, SHA256: up.SHA256, Format: r.Format, Source: source, Name: name,
		Arrived: now.UTC(), Options: r.Options}
}
