// Package workflows holds the pipelines: which steps run, in which order,
// with which timeouts and retry policies. The steps themselves live in
// package activities; the pipelines call them by name with the types of
// the contract in internal/steps, so this package does not link them (nor
// cgo: it builds with CGO_ENABLED=0).
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/steps"
)

// nonRetryable are the error types no retry can fix.
var nonRetryable = []string{steps.ErrInvalidData, steps.ErrInvalidParams, steps.ErrNotFound, steps.ErrCorrupt, steps.ErrDiverged}

// retry backs off exponentially (×2) from initial up to maxInterval, for
// at most attempts tries (0: no limit, the activity's ScheduleToCloseTimeout
// bounds it), and never retries the error types no retry fixes.
func retry(initial, maxInterval time.Duration, attempts int32) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: initial, BackoffCoefficient: 2, MaximumInterval: maxInterval,
		MaximumAttempts: attempts, NonRetryableErrorTypes: nonRetryable}
}

// storeOutage is how long the steps that read and write the store keep
// retrying through its unavailability (with backoff up to 30 s) before the
// run fails: an outage of a few minutes is waited out, not a failed run.
const storeOutage = 15 * time.Minute

// aliveTimeout is the heartbeat timeout of the steps that do not report
// progress: their worker beats for them while they run (activities.live),
// so a worker killed in the middle of one is noticed within it and the
// step retried elsewhere, instead of after its start-to-close timeout (a
// fleet on many workers would otherwise wait minutes on a lost machine).
const aliveTimeout = 30 * time.Second

// ingestOptions: reads an upload and writes Arrow; I/O may fail transiently.
func ingestOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		HeartbeatTimeout:       aliveTimeout,
		StartToCloseTimeout:    5 * time.Minute,
		ScheduleToCloseTimeout: storeOutage,
		RetryPolicy:            retry(time.Second, 30*time.Second, 0),
	}
}

// transformOptions: split, fill, scale and window finish in milliseconds, so
// they run as local activities (no task hand-off through the server).
func transformOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: storeOutage,
		RetryPolicy:            retry(500*time.Millisecond, 30*time.Second, 0),
	}
}

// trainOptions: long, heartbeats from a ticker; a worker that stops
// heartbeating for 30 s is presumed dead and the step is retried, resuming
// from its last checkpoint. The short heartbeat timeout also bounds how
// long a cancellation takes to reach the training loop. Training is retried
// by time, not by a count: every deploy ends an attempt (WorkerStopped,
// after a checkpoint), so any number of deploys and crashes within a day
// are survived, while the error types no retry fixes still end it at once.
func trainOptions(queue string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              queue,
		ScheduleToStartTimeout: queueWait(queue, 0),
		StartToCloseTimeout:    6 * time.Hour,
		ScheduleToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:       30 * time.Second,
		WaitForCancellation:    true,
		RetryPolicy:            retry(5*time.Second, time.Minute, 0),
	}
}

// evaluateOptions: loads a model and predicts the test split.
func evaluateOptions(queue string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              queue,
		ScheduleToStartTimeout: queueWait(queue, 0),
		HeartbeatTimeout:       aliveTimeout,
		StartToCloseTimeout:    15 * time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy:            retry(time.Second, 30*time.Second, 0),
	}
}

// registerOptions: small writes to the store, safe to repeat (idempotent per run).
func registerOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		HeartbeatTimeout:       aliveTimeout,
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: storeOutage,
		RetryPolicy:            retry(time.Second, 30*time.Second, 0),
	}
}

// trialOptions: a hyperparameter trial is a short training run; no
// checkpoint, so a retry starts the trial over. Retried by time like
// training (a deploy must not use up a trial's attempts).
func trialOptions(queue string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              queue,
		ScheduleToStartTimeout: queueWait(queue, 0),
		StartToCloseTimeout:    2 * time.Hour,
		ScheduleToCloseTimeout: 6 * time.Hour,
		HeartbeatTimeout:       30 * time.Second,
		WaitForCancellation:    true,
		RetryPolicy:            retry(5*time.Second, time.Minute, 0),
	}
}

// trainingQueue is where training activities went before the train queue:
// the GPU queue when the run asks for CUDA, else the workflow's own queue ("").
func trainingQueue(device string) string {
	if device == "cuda" {
		return config.GPUTaskQueue
	}
	return ""
}

// modelQueue is where the steps that train or load a model go (train,
// trials, evaluate, compare): the GPU queue when the run asks for CUDA,
// else the train queue of the workflow's own queue (config.TrainQueue),
// whose worker runs at most --train-slots of them at a time. Executions
// begun before the train queue existed (version "train-queue" absent from
// their history) keep sending them where trainingQueue did.
func modelQueue(ctx workflow.Context, device string) string {
	if q := trainingQueue(device); q != "" {
		return q
	}
	if workflow.GetVersion(ctx, "train-queue", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return ""
	}
	return config.TrainQueue(workflow.GetInfo(ctx).TaskQueueName)
}

// DefaultGPUWait is how long a step sent to the GPU task queue waits for a
// worker to pick it up before the run fails (TrainingInput.GPUWait
// shortens or lengthens it). Only workers started with --device cuda poll
// that queue; without one a run would otherwise wait at Stage=train forever.
const DefaultGPUWait = 10 * time.Minute

// queueWait is the schedule-to-start timeout of a step on queue: wait
// (DefaultGPUWait when 0) on the GPU queue, none (wait for ever) on the
// workflow's own queue or its train queue, which the worker process running
// the workflow polls.
// Temporal never retries a schedule-to-start timeout: the step fails at once.
func queueWait(queue string, wait time.Duration) time.Duration {
	if queue != config.GPUTaskQueue {
		return 0
	}
	if wait <= 0 {
		return DefaultGPUWait
	}
	return wait
}

// gpuWaitKey holds a run's TrainingInput.GPUWait in its workflow context.
type gpuWaitKey struct{}

// withGPUWait makes the GPU-queue steps run under ctx wait d (0 = DefaultGPUWait).
func withGPUWait(ctx workflow.Context, d time.Duration) workflow.Context {
	if d <= 0 {
		return ctx
	}
	return workflow.WithValue(ctx, gpuWaitKey{}, d)
}

// gpuWait is the wait withGPUWait set on ctx, or 0.
func gpuWait(ctx workflow.Context) time.Duration {
	d, _ := ctx.Value(gpuWaitKey{}).(time.Duration)
	return d
}

// renderOptions: the Plot and Report steps draw PNGs and HTML from data
// and records already in the store.
func renderOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		HeartbeatTimeout:       aliveTimeout,
		StartToCloseTimeout:    5 * time.Minute,
		ScheduleToCloseTimeout: storeOutage,
		RetryPolicy:            retry(time.Second, 30*time.Second, 0),
	}
}

// downloadOptions: a network call to a rate-limited API; retried with
// exponential backoff (1 s, 2 s, 4 s, ... up to a minute), 6 attempts.
func downloadOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		HeartbeatTimeout:    aliveTimeout,
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         retry(time.Second, time.Minute, 6),
	}
}

// scanOptions: the inbox scan reads each new file and signals its ticker;
// it heartbeats per file.
func scanOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         retry(time.Second, 30*time.Second, 5),
	}
}

// notifyAttempts and notifyOptions: a notification (e-mail, webhook) is
// retried on its own schedule, not the pipeline's: 10 attempts with
// exponential backoff from 15 s (15 s, 30 s, 1 min, ... at most 15 min
// apart), about an hour in all, each attempt bounded to 2 minutes (both
// channels, 30 s per delivery). A channel that refuses for good
// (NotifyRejected) is not retried.
const notifyAttempts = 10

func notifyOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         retry(15*time.Second, 15*time.Minute, notifyAttempts),
	}
}
