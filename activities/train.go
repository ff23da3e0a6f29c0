package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

// diverged maps a Fit error caused by a diverging loss to a non-retryable
// ErrDiverged application error; what prefixes the message. It returns nil
// for any other error.
func diverged(err error, what string) error {
	if !errors.Is(err, model.ErrDiverged) {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(what+err.Error(), steps.ErrDiverged, err)
}

// TrainProgress is the activity's heartbeat: where training is.
type TrainProgress struct {
	model.Progress
	ResumedFrom int    `json:"resumed_from"`
	Phase       string `json:"phase,omitempty"` // before the first batch and after the last: what it is doing
}

// Train fits the LSTM on the training windows, scoring the validation
// windows after every epoch.
//
//   - It heartbeats from a ticker for the whole activity (the latest epoch,
//     batch and losses as details), so no step of it, not even a slow
//     store, looks like a dead worker.
//   - It writes a checkpoint (weights + optimizer state) after every epoch,
//     keyed by the attempt, and resumes from the furthest one any attempt
//     of this Temporal run wrote: a stale attempt that still runs after its
//     heartbeat timed out cannot overwrite a newer attempt's files.
//   - When its worker is stopping it checkpoints mid-epoch and ends with a
//     retryable WorkerStopped error; the next worker resumes at the batch.
//   - The trained weights are keyed by their content.
func (a *Activities) Train(ctx context.Context, in steps.TrainInput) (steps.TrainResult, error) {
	p := in.Params
	params := model.TrainParams{Epochs: p.Epochs, BatchSize: p.BatchSize, LearningRate: p.LearningRate,
		ClipNorm: p.ClipNorm, LRDecay: p.LRDecay, Patience: p.Patience}
	if err := params.Validate(); err != nil {
		return steps.TrainResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	hb := startHeartbeat(ctx, TrainProgress{Phase: "reading windows"})
	defer hb.end()
	m, train, val, err := a.modelForWindows(ctx, in.Windows, p, "")
	if err != nil {
		return steps.TrainResult{}, err
	}
	if in.Init != nil {
		hb.set(TrainProgress{Phase: "loading initial weights"})
		if m, err = a.warmStart(ctx, m, *in.Init); err != nil {
			return steps.TrainResult{}, err
		}
	}
	defer m.Close()
	info := activity.GetInfo(ctx)
	ckpts, err := checkpointsOf(in, info.WorkflowExecution.RunID)
	if err != nil {
		return steps.TrainResult{}, err
	}
	hb.set(TrainProgress{Phase: "loading checkpoint"})
	resume, err := a.loadCheckpoint(ctx, ckpts)
	if err != nil {
		return steps.TrainResult{}, err
	}
	ckptKey := ckpts.attempt(info.Attempt)
	out := steps.TrainResult{Config: m.Config(), TrainingRun: pipeline.TrainingRun{Attempt: info.Attempt}}
	if resume != nil {
		out.ResumedFrom = resume.Epoch
		activity.GetLogger(ctx).Info("resuming training from checkpoint", "epoch", resume.Epoch, "batch", resume.Batch, "attempt", info.Attempt)
	}
	clock := newEpochClock(train.Len())
	fit, err := m.Fit(ctx, train, val, model.FitOptions{
		TrainParams: params,
		Resume:      resume,
		Stop:        activity.GetWorkerStopChannel(ctx),
		OnBatch: func(pr model.Progress) error {
			pr.LastTrain, pr.LastVal = finite(pr.LastTrain), finite(pr.LastVal)
			hb.set(TrainProgress{Progress: pr, ResumedFrom: out.ResumedFrom})
			return nil
		},
		OnEpoch: func(c *model.Checkpoint) error {
			out.EpochsRun++
			a.notifyProgress(ctx, c, params.Epochs)
			a.logEpoch(ctx, c, params.Epochs, clock.lap())
			return a.saveCheckpoint(ctx, ckptKey, m, c)
		},
		OnStop: func(c *model.Checkpoint) error { return a.saveCheckpoint(ctx, ckptKey, m, c) },
	})
	if err != nil {
		return steps.TrainResult{}, trainFailed(err)
	}
	hb.set(TrainProgress{Phase: "writing weights"})
	weights, err := m.MarshalWeights()
	if err != nil {
		return steps.TrainResult{}, fmt.Errorf("save weights: %w", err)
	}
	hash := blob.ContentHash(weights)
	out.Weights, err = a.putImmutable(ctx, runs.WeightsKey(in.RunID, hash), weights, 0)
	if err != nil {
		return steps.TrainResult{}, err
	}
	out.BestEpoch, out.StoppedEarly = fit.BestEpoch, fit.StoppedEarly
	for _, e := range fit.Curve {
		out.Curve = append(out.Curve, pipeline.EpochLoss{Epoch: e.Epoch, TrainLoss: e.TrainLoss, ValLoss: finite(e.ValLoss)})
	}
	return out, nil
}

// trainFailed maps a Fit error to the activity's: cancelled, stopped for
// a shutdown (retryable at once), diverged (not retryable), or other.
func trainFailed(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return temporal.NewCanceledError("training cancelled")
	case errors.Is(err, model.ErrStopped):
		return temporal.NewApplicationErrorWithOptions("train: "+err.Error()+"; checkpoint saved, the next worker resumes from it",
			steps.ErrWorkerStopped, temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: time.Second})
	}
	if d := diverged(err, "train: "); d != nil {
		return d
	}
	// A checkpoint the store refused for good (writeErr) stays
	// non-retryable: the SDK would send it wrapped as a retryable failure.
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		return appErr
	}
	return fmt.Errorf("train: %w", err)
}

// warmStart replaces the fresh model m with one holding the weights of
// init (same architecture), and frees m.
func (a *Activities) warmStart(ctx context.Context, m *model.LSTM, init blob.Ref) (*model.LSTM, error) {
	defer m.Close()
	raw, err := a.readVerified(ctx, init)
	if err != nil {
		return nil, err
	}
	w, err := model.Load(raw, m.Config(), a.Device)
	if err != nil {
		return nil, invalid(steps.ErrInvalidParams, err, "warm start from %s: %v", init.Key, err)
	}
	return w, nil
}

// checkpointSet names the checkpoints of one training: a folder per
// Temporal run (a reset starts training over, a retry does not) and the
// training's inputs, with one file per attempt.
type checkpointSet struct{ dir string }

func checkpointsOf(in steps.TrainInput, temporalRunID string) (checkpointSet, error) {
	key, err := derivedKey("checkpoint", "ckpt", in)
	if err != nil {
		return checkpointSet{}, err
	}
	name := strings.TrimSuffix(path.Base(key), ".ckpt")
	return checkpointSet{dir: runs.CheckpointDir(in.RunID, temporalRunID, name)}, nil
}

// attempt is the checkpoint file attempt n writes.
func (c checkpointSet) attempt(n int32) string { return fmt.Sprintf("%sattempt-%03d.ckpt", c.dir, n) }

// loadCheckpoint returns the furthest-along checkpoint any attempt wrote,
// or nil when there is none.
func (a *Activities) loadCheckpoint(ctx context.Context, set checkpointSet) (*model.Checkpoint, error) {
	keys, err := a.Store.List(ctx, set.dir)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints %s: %w", set.dir, err)
	}
	var best *model.Checkpoint
	for _, key := range keys {
		raw, err := blob.GetBytes(ctx, a.Store, key)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read checkpoint %s: %w", key, err)
		}
		c, err := model.UnmarshalCheckpoint(raw)
		if err != nil {
			// A checkpoint is only written whole (atomic Put), so this is not a
			// torn write; skip it rather than fail the run.
			slog.Warn("ignoring unreadable checkpoint", "key", key, "err", err)
			continue
		}
		if best == nil || c.Ahead(best) {
			best = c
		}
	}
	return best, nil
}

func (a *Activities) saveCheckpoint(ctx context.Context, key string, m *model.LSTM, c *model.Checkpoint) error {
	raw, err := c.Marshal(m.ParamNames())
	if err != nil {
		return err
	}
	if err := a.Store.Put(ctx, key, bytes.NewReader(raw)); err != nil {
		return a.writeErr(key, err)
	}
	return nil
}

// finite maps NaN (no value yet) to 0: JSON payloads cannot carry NaN.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// notifyProgress tells the workflow (for its progress query) which epoch
// finished; best effort, training does not depend on it.
func (a *Activities) notifyProgress(ctx context.Context, c *model.Checkpoint, epochs int) {
	if a.Progress == nil || len(c.Curve) == 0 {
		return
	}
	last := c.Curve[len(c.Curve)-1]
	info := activity.GetInfo(ctx)
	p := pipeline.Progress{Stage: "train", Epoch: c.Epoch, Epochs: epochs, TrainLoss: finite(last.TrainLoss), ValLoss: finite(last.ValLoss)}
	if err := a.Progress.SignalWorkflow(ctx, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, pipeline.ProgressSignal, p); err != nil {
		activity.GetLogger(ctx).Warn("could not signal training progress", "err", err)
	}
}

// modelForWindows reads a run's training and validation windows and builds
// a fresh model of p's architecture for their shape. what prefixes its
// error messages ("" for the final training, "trial 3: " for a trial).
func (a *Activities) modelForWindows(ctx context.Context, w steps.Splits, p pipeline.ModelParams, what string) (*model.LSTM, model.Dataset, model.Dataset, error) {
	train, err := a.readWindows(ctx, w.Train)
	if err != nil {
		return nil, model.Dataset{}, model.Dataset{}, err
	}
	val, err := a.readWindows(ctx, w.Val)
	if err != nil {
		return nil, model.Dataset{}, model.Dataset{}, err
	}
	cfg := arch.Config{Features: train.Features, Lookback: train.Lookback, Layers: p.Layers, Units: p.Units, Dropout: p.Dropout, Seed: p.Seed}
	if err := cfg.Validate(); err != nil {
		return nil, model.Dataset{}, model.Dataset{}, invalid(steps.ErrInvalidParams, err, "%s%v", what, err)
	}
	m, err := model.New(cfg, a.Device)
	if err != nil {
		return nil, model.Dataset{}, model.Dataset{}, fmt.Errorf("%sbuild model: %w", what, err)
	}
	return m, model.Dataset{X: train.X, Y: train.Y}, model.Dataset{X: val.X, Y: val.Y}, nil
}
