package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
)

// heartbeat keeps a long activity's heartbeat going from a ticker for as
// long as it runs, not only when its loop reaches a batch: reading
// windows, building the model, loading a checkpoint, validating, writing
// weights and waiting on a slow store all count as alive. Without it, a
// gap longer than the heartbeat timeout starts a second attempt while the
// first still runs. The details sent are the latest set.
type heartbeat struct {
	ctx     context.Context
	mu      sync.Mutex
	details any
	stop    chan struct{}
	done    chan struct{}
}

// heartbeatEvery is how often the ticker beats for a heartbeat timeout of
// d: three times per timeout (the SDK sends at most one per 0.8·d anyway),
// at least every 10 s when no timeout is set.
func heartbeatEvery(d time.Duration) time.Duration {
	if d <= 0 {
		return 10 * time.Second
	}
	return max(d/3, 50*time.Millisecond)
}

// startHeartbeat beats at once with details and then on a ticker until
// stop is called.
func startHeartbeat(ctx context.Context, details any) *heartbeat {
	h := &heartbeat{ctx: ctx, details: details, stop: make(chan struct{}), done: make(chan struct{})}
	activity.RecordHeartbeat(ctx, details)
	tick := time.NewTicker(heartbeatEvery(activity.GetInfo(ctx).HeartbeatTimeout))
	go func() {
		defer close(h.done)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				h.mu.Lock()
				d := h.details
				h.mu.Unlock()
				activity.RecordHeartbeat(ctx, d)
			}
		}
	}()
	return h
}

// set replaces the details the next beats carry and beats now.
func (h *heartbeat) set(details any) {
	h.mu.Lock()
	h.details = details
	h.mu.Unlock()
	activity.RecordHeartbeat(h.ctx, details)
}

// end stops the ticker and waits for it.
func (h *heartbeat) end() {
	close(h.stop)
	<-h.done
}
