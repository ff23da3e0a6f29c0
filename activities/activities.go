// Package activities holds the steps of the pipelines, one file per step,
// as methods on Activities, which holds their dependencies. Each step reads
// its inputs from the blob store, writes its outputs there, and returns
// references. Their names, input and result types and error types are the
// contract in internal/steps; Register puts them on a worker under those
// names.
package activities

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/handoff"
	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/telemetry"
	"github.com/finsight/finsight/internal/yahoo"
)

// Activities are the pipeline steps and what they need.
type Activities struct {
	Store       blob.Store
	Device      gotch.Device
	Mem         memory.Allocator
	CodeVersion string           // git commit of this build, recorded with each run
	Progress    ProgressSignaler // optional: live training progress to the workflow
	Yahoo       *yahoo.Client    // the download source (nil: downloads refused)
	// Temporal hands new data to ticker workflows (signal-with-start); nil:
	// the inbox scan and the refresh cannot hand anything on.
	Temporal handoff.Signaler
	// Metrics counts runs, training progress and notifications for
	// Prometheus (nil: nothing is recorded).
	Metrics *telemetry.Worker
	// Notifier delivers notifications (e-mail, webhook) for the Notify
	// step; nil: no channel is configured and Notify sends nothing.
	Notifier *notify.Notifier
	// WorkflowURL links a workflow (a run id) in the Temporal Web UI for the
	// report's navigation (config.Config.WorkflowURL); nil: no link.
	WorkflowURL func(workflowID string) string
	// CrashAt makes the worker kill itself at that point (a testing knob,
	// FINSIGHT_CRASH_AT); zero: never.
	CrashAt CrashPoint
}

// ProgressSignaler signals a running workflow (a Temporal client does).
type ProgressSignaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg interface{}) error
}

// New wires the steps to a store and a training device.
func New(store blob.Store, device gotch.Device) *Activities {
	return &Activities{Store: store, Device: device, Mem: memory.DefaultAllocator}
}
