package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// Workflow ids of TrainingPipeline runs are derived from the request, so
// running the starter twice with the same arguments finds the first run
// instead of training twice:
//
//	train-<TICKER>-<data8>-<params8>
//
// data8 is the first 8 hex digits of the CSV's SHA-256 ("yahoo" for a
// download, whose range is part of the parameters); params8 is the first 8
// hex digits of the SHA-256 of the TrainingInput as JSON, defaults filled in,
// without the fields that do not change what is trained (the Source label
// and SearchAttributes). --new-run appends a time-based suffix to force a
// fresh run.

// trainingParamsHash is the first 8 hex digits of the SHA-256 of in's
// canonical JSON (encoding/json writes struct fields in declaration order),
// less the fields that do not change the result.
func trainingParamsHash(in pipeline.TrainingInput) (string, error) {
	in.Source = ""
	in.SearchAttributes = false
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("hash training input: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:8], nil
}

// trainingWorkflowID is the id of the pipeline that trains in on the data
// named by dataPart; newRun adds a suffix that makes it a fresh id.
func trainingWorkflowID(in pipeline.TrainingInput, dataPart string, newRun bool, now time.Time) (string, error) {
	params, err := trainingParamsHash(in)
	if err != nil {
		return "", err
	}
	id := fmt.Sprintf("train-%s-%s-%s", in.Ticker, dataPart, params)
	if newRun {
		id += "-" + strconv.FormatInt(now.UnixMilli(), 10)
	}
	return id, nil
}

// dataIDPart is the data part of a training workflow id: the content hash
// of the CSV (hashed here for --store-csv, whose key need not name its
// content), or the source's own part (a download: "yahoo").
func dataIDPart(ctx context.Context, store blob.Store, src resolved) (string, error) {
	if src.csvKey == "" || src.idPart != "store" {
		return src.idPart, nil
	}
	r, err := store.Get(ctx, src.csvKey)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", src.csvKey, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("read %s: %w", src.csvKey, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:8], nil
}

// startCase says what starting a training pipeline found.
type startCase int

const (
	startedNew       startCase = iota // a new run started
	attachedRunning                   // the same request was running: attached to it
	alreadyCompleted                  // the same request completed earlier: that run
)

// startTraining starts the pipeline under opts.ID, or finds the run that
// already has that id, and says which.
//
// Policies, chosen so that the same request trains once:
//   - reuse ALLOW_DUPLICATE_FAILED_ONLY: a run that completed is not run
//     again (its result stands); one that failed, timed out, was cancelled
//     or terminated may be started again under the same id.
//   - conflict FAIL, with WorkflowExecutionErrorWhenAlreadyStarted: a
//     running one makes the start fail with WorkflowExecutionAlreadyStarted,
//     and the starter attaches to that run itself. This is what
//     USE_EXISTING does on the server, except that the SDK does not report
//     whether USE_EXISTING started a run or attached to one, and the starter
//     says which.
func startTraining(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, in pipeline.TrainingInput) (client.WorkflowRun, startCase, error) {
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
			return run, startedNew, nil
		}
		d, err := c.DescribeWorkflowExecution(ctx, opts.ID, dup.RunId)
		if err != nil {
			return nil, 0, fmt.Errorf("describe %s: %w", opts.ID, err)
		}
		switch d.GetWorkflowExecutionInfo().GetStatus() {
		case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			return c.GetWorkflow(ctx, opts.ID, dup.RunId), attachedRunning, nil
		case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			return c.GetWorkflow(ctx, opts.ID, dup.RunId), alreadyCompleted, nil
		}
		// It was running when we started and ended otherwise since: the
		// reuse policy lets the request run again.
		if attempt == 2 {
			return nil, 0, fmt.Errorf("start %s %s: %w", pipeline.TrainingWorkflow, opts.ID, dup)
		}
	}
}
