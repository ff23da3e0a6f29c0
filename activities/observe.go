package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/telemetry"
	"github.com/finsight/finsight/model"
)

// epochClock measures training throughput: windows per second over the
// wall time since the previous epoch ended (or training started).
type epochClock struct {
	samples int // training windows per epoch
	last    time.Time
}

func newEpochClock(samples int) *epochClock { return &epochClock{samples: samples, last: time.Now()} }

// lap is the samples/s of the epoch that just ended.
func (c *epochClock) lap() float64 {
	now := time.Now()
	d := now.Sub(c.last).Seconds()
	c.last = now
	if d <= 0 {
		return 0
	}
	return float64(c.samples) / d
}

// logEpoch writes one line per finished epoch through the activity logger
// (which carries the workflow and run ids, activity type, attempt and
// ticker) and sets the ticker's training gauges.
func (a *Activities) logEpoch(ctx context.Context, c *model.Checkpoint, epochs int, samplesPerSec float64) {
	if len(c.Curve) == 0 {
		return
	}
	last := c.Curve[len(c.Curve)-1]
	trainLoss, valLoss := finite(last.TrainLoss), finite(last.ValLoss)
	activity.GetLogger(ctx).Info("epoch", "epoch", fmt.Sprintf("%d/%d", c.Epoch, epochs),
		"train_loss", trainLoss, "val_loss", valLoss, "lr", last.LR, "samples_per_s", round1(samplesPerSec))
	a.Metrics.Epoch(telemetry.TickerFrom(ctx), samplesPerSec, trainLoss, valLoss)
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// runEnding reports whether saving rec ends its run: rec has a final
// status and the stored record does not yet (a retried or repeated save of
// a finished run, e.g. after its report, is not a second ending). It reads
// the stored record only when there is something to count.
func (a *Activities) runEnding(ctx context.Context, rec runs.Record) bool {
	if a.Metrics == nil || !finalStatus(rec.Status) {
		return false
	}
	prev, err := runs.Read(ctx, a.Store, rec.ID)
	return err != nil || !finalStatus(prev.Status)
}

// runEnded counts and logs a run that ended.
func (a *Activities) runEnded(ctx context.Context, rec runs.Record) {
	a.Metrics.RunEnded(rec.Workflow, rec.Status)
	activity.GetLogger(ctx).Info("run ended", "run", rec.ID, "workflow", rec.Workflow, "status", rec.Status)
}

func finalStatus(s string) bool {
	return s == runs.StatusCompleted || s == runs.StatusFailed || s == runs.StatusCancelled
}
