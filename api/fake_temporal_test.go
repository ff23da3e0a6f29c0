package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"

	"github.com/finsight/finsight/api"
)

// fakeWorkflow is one workflow the fake Temporal knows.
type fakeWorkflow struct {
	id, runID, typ string
	status         enumspb.WorkflowExecutionStatus
	args           []interface{}
	progress       any    // the progress query's answer (nil: no such query)
	result         any    // a completed run's result
	failure        string // a failed run's error
	signals        []interface{}
}

// fakeTemporal is the API's Temporal client in unit tests: a map of
// workflows with the start, describe, query, cancel and signal-with-start
// the workflow routes use. down makes every call fail as an unreachable
// frontend does.
type fakeTemporal struct {
	mu        sync.Mutex
	workflows map[string]*fakeWorkflow
	starts    int
	cancels   []string
	down      bool
}

var _ api.WorkflowClient = (*fakeTemporal)(nil)

func newFakeTemporal() *fakeTemporal { return &fakeTemporal{workflows: map[string]*fakeWorkflow{}} }

var errFrontendDown = serviceerror.NewUnavailable("connection refused")

func (f *fakeTemporal) get(id string) *fakeWorkflow {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.workflows[id]
}

// set puts a workflow in a state.
func (f *fakeTemporal) set(w *fakeWorkflow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w.runID == "" {
		w.runID = "run-" + w.id
	}
	f.workflows[w.id] = w
}

func (f *fakeTemporal) setStatus(id string, st enumspb.WorkflowExecutionStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.workflows[id].status = st
}

func (f *fakeTemporal) isDown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func workflowName(w interface{}) string {
	if s, ok := w.(string); ok {
		return s
	}
	return fmt.Sprintf("%T", w)
}

// ExecuteWorkflow honours the id policies StartTraining sets: a running or
// completed workflow under the id refuses the start (AlreadyStarted); one
// that ended otherwise is started again.
func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, wf interface{}, args ...interface{}) (client.WorkflowRun, error) {
	if f.isDown() {
		return nil, errFrontendDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.workflows[opts.ID]; ok && (w.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || w.status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", w.runID)
	}
	f.starts++
	w := &fakeWorkflow{id: opts.ID, runID: fmt.Sprintf("run-%d", f.starts), typ: workflowName(wf), status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, args: args}
	f.workflows[opts.ID] = w
	return fakeTemporalRun{f: f, id: w.id, runID: w.runID}, nil
}

func (f *fakeTemporal) SignalWithStartWorkflow(_ context.Context, id, signal string, arg interface{}, opts client.StartWorkflowOptions, wf interface{}, args ...interface{}) (client.WorkflowRun, error) {
	if f.isDown() {
		return nil, errFrontendDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.workflows[id]
	if !ok || w.status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		f.starts++
		w = &fakeWorkflow{id: id, runID: fmt.Sprintf("run-%d", f.starts), typ: workflowName(wf), status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, args: args}
		f.workflows[id] = w
	}
	w.signals = append(w.signals, arg)
	return fakeTemporalRun{f: f, id: w.id, runID: w.runID}, nil
}

func (f *fakeTemporal) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if f.isDown() {
		return nil, errFrontendDown
	}
	w := f.get(id)
	if w == nil {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: w.id, RunId: w.runID},
		Type:      &commonpb.WorkflowType{Name: w.typ},
		Status:    w.status,
	}}, nil
}

func (f *fakeTemporal) GetWorkflow(_ context.Context, id, runID string) client.WorkflowRun {
	return fakeTemporalRun{f: f, id: id, runID: runID}
}

func (f *fakeTemporal) QueryWorkflow(_ context.Context, id, _ string, queryType string, _ ...interface{}) (converter.EncodedValue, error) {
	if f.isDown() {
		return nil, errFrontendDown
	}
	w := f.get(id)
	if w == nil {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	if w.progress == nil {
		return nil, serviceerror.NewInvalidArgument("unknown queryType " + queryType)
	}
	return jsonValue{w.progress}, nil
}

func (f *fakeTemporal) CancelWorkflow(_ context.Context, id, _ string) error {
	if f.isDown() {
		return errFrontendDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.workflows[id]; !ok {
		return serviceerror.NewNotFound("workflow not found")
	}
	f.cancels = append(f.cancels, id)
	return nil
}

// OperatorService says the namespace has no search attributes.
func (f *fakeTemporal) OperatorService() operatorservice.OperatorServiceClient { return noOperator{} }

type noOperator struct {
	operatorservice.OperatorServiceClient
}

func (noOperator) ListSearchAttributes(context.Context, *operatorservice.ListSearchAttributesRequest, ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error) {
	return nil, errors.New("not in the fake")
}

// fakeTemporalRun is a workflow run of the fake: Get answers a completed run's
// result and a failed run's error.
type fakeTemporalRun struct {
	client.WorkflowRun
	f         *fakeTemporal
	id, runID string
}

func (r fakeTemporalRun) GetID() string    { return r.id }
func (r fakeTemporalRun) GetRunID() string { return r.runID }

func (r fakeTemporalRun) Get(_ context.Context, valuePtr interface{}) error {
	w := r.f.get(r.id)
	if w == nil {
		return serviceerror.NewNotFound("workflow not found")
	}
	switch w.status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		if valuePtr == nil || w.result == nil {
			return nil
		}
		return jsonValue{w.result}.Get(valuePtr)
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return errors.New("the fake does not wait")
	}
	return errors.New(w.failure)
}

// jsonValue is an encoded value decoded by a JSON round trip, as the SDK's
// default converter does.
type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return j.v != nil }

func (j jsonValue) Get(valuePtr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, valuePtr)
}
