package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/pipeline"
)

// ProgressQueryTimeout bounds one progress query: with no worker polling,
// a query waits until its deadline.
var ProgressQueryTimeout = 5 * time.Second

// closedErrorTimeout bounds the read of a closed workflow's outcome.
const closedErrorTimeout = 10 * time.Second

// Querier is what QueryProgress needs of a Temporal client.
type Querier interface {
	QueryWorkflow(ctx context.Context, workflowID string, runID string, queryType string, args ...interface{}) (converter.EncodedValue, error)
}

// StatusClient is what StatusReport needs of a Temporal client
// (client.Client has it).
type StatusClient interface {
	Querier
	GetWorkflow(ctx context.Context, workflowID string, runID string) client.WorkflowRun
}

// QueryProgress asks workflow id (run runID, "" = its latest) for its
// progress query (pipeline.ProgressQuery: the step, the epoch and losses).
func QueryProgress(ctx context.Context, c Querier, id, runID string) (pipeline.Progress, error) {
	ctx, cancel := context.WithTimeout(ctx, ProgressQueryTimeout)
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

// NoProgressQuery reports whether err says the workflow has no progress
// query at all (a workflow type without one), so asking again is useless.
func NoProgressQuery(err error) bool {
	return err != nil && strings.Contains(err.Error(), "unknown queryType")
}

// ClosedError is the error a workflow that did not complete ended with
// (its failure, or the cancellation or termination), without the SDK's
// wrapper that names the workflow again.
func ClosedError(ctx context.Context, c StatusClient, id, runID string) error {
	ctx, cancel := context.WithTimeout(ctx, closedErrorTimeout)
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

// WorkflowStatus is a workflow's state once: what `starter status`
// prints and GET /workflows/{id} answers.
type WorkflowStatus struct {
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

// StatusReport gathers a workflow's status from its description: the
// progress query of a running workflow (else the Stage search attribute),
// the memo and the last error (a pending activity's last failure while it
// runs, the workflow's own once it closed other than completed). Status is
// the SDK's name of the status ("Running", "Completed", "Canceled", ...);
// WebUI is left for the caller.
func StatusReport(ctx context.Context, c StatusClient, d *workflowservice.DescribeWorkflowExecutionResponse) WorkflowStatus {
	info := d.GetWorkflowExecutionInfo()
	ex := info.GetExecution()
	s := WorkflowStatus{WorkflowID: ex.GetWorkflowId(), RunID: ex.GetRunId(), Type: info.GetType().GetName(),
		Status: info.GetStatus().String(), Started: info.GetStartTime().AsTime().UTC(), Memo: payloadStrings(info.GetMemo().GetFields())}
	if ct := info.GetCloseTime(); ct != nil && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t := ct.AsTime().UTC()
		s.Closed = &t
	}
	s.Stage = payloadStrings(info.GetSearchAttributes().GetIndexedFields())["Stage"]
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if p, err := QueryProgress(ctx, c, s.WorkflowID, s.RunID); err == nil {
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
		if err := ClosedError(ctx, c, s.WorkflowID, s.RunID); err != nil {
			s.LastError = err.Error()
		}
	}
	return s
}

// StatusWord is a status as one lower-case word: running, completed,
// failed, cancelled, terminated, timed_out, continued_as_new.
func StatusWord(st enumspb.WorkflowExecutionStatus) string {
	switch st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "running"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "completed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "failed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "cancelled"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed_out"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued_as_new"
	}
	return "unknown"
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
