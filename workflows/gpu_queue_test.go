package workflows

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// optionsSpy records the activity options each activity type was scheduled
// with, as the workflow set them.
type optionsSpy struct {
	interceptor.WorkerInterceptorBase
	mu   sync.Mutex
	opts map[string]workflow.ActivityOptions
}

func newOptionsSpy() *optionsSpy { return &optionsSpy{opts: map[string]workflow.ActivityOptions{}} }

func (s *optionsSpy) of(activityType string) (workflow.ActivityOptions, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.opts[activityType]
	return o, ok
}

func (s *optionsSpy) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &spyInbound{spy: s}
	i.Next = next
	return i
}

type spyInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	spy *optionsSpy
}

func (i *spyInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &spyOutbound{spy: i.spy}
	o.Next = outbound
	return i.Next.Init(o)
}

type spyOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	spy *optionsSpy
}

func (o *spyOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.spy.mu.Lock()
	o.spy.opts[activityType] = workflow.GetActivityOptions(ctx)
	o.spy.mu.Unlock()
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

// scheduleToStart is the error Temporal reports when no worker picked an
// activity task up within its ScheduleToStartTimeout.
func scheduleToStart() error {
	return temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
}

func TestCudaRunWithNoGPUWorkerFailsNamingTheQueue(t *testing.T) {
	for _, step := range []string{"Train", "Evaluate"} {
		t.Run(step, func(t *testing.T) {
			env, order, _ := mockedPipeline(t, step, scheduleToStart())
			spy := newOptionsSpy()
			env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{spy}})
			env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv", Device: "cuda"})
			if !env.IsWorkflowCompleted() {
				t.Fatal("workflow did not complete")
			}
			err := env.GetWorkflowError()
			if err == nil {
				t.Fatal("workflow succeeded")
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != ErrNoGPUWorker || !appErr.NonRetryable() {
				t.Fatalf("error %v is not a non-retryable %s application error", err, ErrNoGPUWorker)
			}
			want := strings.ToLower(step) + " failed: no worker polled task queue " + config.GPUTaskQueue + " for 10m0s: start a worker with --device cuda"
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not say %q", err, want)
			}
			var timeout *temporal.TimeoutError
			if !errors.As(err, &timeout) || timeout.TimeoutType() != enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START {
				t.Fatalf("error %v lost its schedule-to-start timeout cause", err)
			}
			if last := (*order)[len(*order)-1]; last != step {
				t.Fatalf("a step ran after the failing %s: %v", step, *order)
			}
			o, ok := spy.of(step)
			if !ok {
				t.Fatalf("%s was never scheduled", step)
			}
			if o.TaskQueue != config.GPUTaskQueue || o.ScheduleToStartTimeout != DefaultGPUWait {
				t.Fatalf("%s scheduled on %q with ScheduleToStartTimeout %v, want %q and %v",
					step, o.TaskQueue, o.ScheduleToStartTimeout, config.GPUTaskQueue, DefaultGPUWait)
			}
		})
	}
}

func TestCPURunStepsWaitForTheirWorker(t *testing.T) {
	env, _, _ := mockedPipeline(t, "", nil)
	spy := newOptionsSpy()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{spy}})
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	for _, step := range []string{"Train", "Evaluate"} {
		o, ok := spy.of(step)
		if !ok {
			t.Fatalf("%s was never scheduled", step)
		}
		// On the workflow's own queue the worker running the workflow polls
		// it, so there is nothing to time out on.
		if o.TaskQueue == config.GPUTaskQueue || o.ScheduleToStartTimeout != 0 {
			t.Fatalf("%s scheduled on %q with ScheduleToStartTimeout %v, want the workflow's queue and none", step, o.TaskQueue, o.ScheduleToStartTimeout)
		}
	}
}

// TestGPUWaitShortensTheWait runs trainModel under withGPUWait, as a run
// with TrainingInput.GPUWait does, and checks the wait reaches the options
// and the message.
func TestGPUWaitShortensTheWait(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	spy := newOptionsSpy()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{spy}})
	env.OnActivity(steps.Train, mock.Anything, mock.Anything).Return(steps.TrainResult{}, scheduleToStart())
	wf := func(ctx workflow.Context) error {
		_, err := trainModel(withGPUWait(ctx, 5*time.Second), trainingQueue("cuda"), steps.TrainInput{RunID: "r"})
		return err
	}
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "gpuWaitProbe"})
	env.ExecuteWorkflow("gpuWaitProbe")
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrNoGPUWorker {
		t.Fatalf("error = %v, want %s", err, ErrNoGPUWorker)
	}
	if !strings.Contains(err.Error(), "no worker polled task queue finsight-gpu for 5s") {
		t.Fatalf("error %q does not name the queue and the 5s wait", err)
	}
	if o, _ := spy.of("Train"); o.ScheduleToStartTimeout != 5*time.Second {
		t.Fatalf("Train ScheduleToStartTimeout = %v, want 5s", o.ScheduleToStartTimeout)
	}
}

func TestGPUQueueStepsHaveAScheduleToStartTimeout(t *testing.T) {
	gpu := trainingQueue("cuda")
	for name, o := range map[string]workflow.ActivityOptions{
		"train": trainOptions(gpu), "evaluate": evaluateOptions(gpu), "trial": trialOptions(gpu),
	} {
		if o.ScheduleToStartTimeout != DefaultGPUWait {
			t.Errorf("%s on %s: ScheduleToStartTimeout = %v, want %v", name, gpu, o.ScheduleToStartTimeout, DefaultGPUWait)
		}
	}
	for name, o := range map[string]workflow.ActivityOptions{
		"train": trainOptions(""), "evaluate": evaluateOptions(""), "trial": trialOptions(""),
	} {
		if o.ScheduleToStartTimeout != 0 {
			t.Errorf("%s on the workflow's queue: ScheduleToStartTimeout = %v, want 0", name, o.ScheduleToStartTimeout)
		}
	}
	if got := queueWait(gpu, time.Second); got != time.Second {
		t.Errorf("queueWait(gpu, 1s) = %v", got)
	}
}

// A schedule-to-start timeout on the workflow's own queue, or any other
// error, passes through noWorker unchanged.
func TestNoWorkerLeavesOtherErrorsAlone(t *testing.T) {
	other := temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_HEARTBEAT, nil)
	if got := noWorker("train", config.GPUTaskQueue, time.Minute, other); got != other {
		t.Fatalf("heartbeat timeout became %v", got)
	}
	if got := noWorker("train", config.GPUTaskQueue, time.Minute, nil); got != nil {
		t.Fatalf("nil became %v", got)
	}
}

func TestCudaSearchWithNoGPUWorkerFailsNamingTheQueue(t *testing.T) {
	env, order, _ := mockedPipeline(t, "", nil)
	env.RegisterWorkflow(Tune)
	env.OnActivity(steps.TrainTrial, mock.Anything, mock.Anything).Return(steps.TrialResult{}, scheduleToStart())
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv", Device: "cuda",
		GPUWait: 3 * time.Minute, Tune: pipeline.TuneSpec{Trials: 6, Concurrency: 2}})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrNoGPUWorker {
		t.Fatalf("error %v is not a %s application error", err, ErrNoGPUWorker)
	}
	want := "no worker polled task queue " + config.GPUTaskQueue + " for 3m0s: start a worker with --device cuda"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	if slices.Contains(*order, "Train") {
		t.Fatalf("the final training ran after the search found no worker: %v", *order)
	}
}
