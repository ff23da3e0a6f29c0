package activities

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/memstat"
	"github.com/finsight/finsight/internal/runs"
)

// UsageInterceptor measures every activity's wall time and the worker's
// peak resident memory while it ran, and stores them with the run
// (runs/<workflow-id>/stats/), where the run record picks them up.
type UsageInterceptor struct {
	interceptor.WorkerInterceptorBase
	Store blob.Store
	Every time.Duration // RSS sampling period
	// Worker names this worker process in each runs.Stat ("" = WorkerName()),
	// so a run record says which worker ran each step.
	Worker string
}

// WorkerName is a worker process's default name, pid@host: the identity
// the Temporal SDK gives a client by default.
func WorkerName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%d@%s", os.Getpid(), host)
}

// InterceptActivity wraps each activity execution.
func (u *UsageInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &usageInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, u: u}
}

type usageInbound struct {
	interceptor.ActivityInboundInterceptorBase
	u *UsageInterceptor
}

func (i *usageInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	start := time.Now()
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := i.u.Every
		if every <= 0 {
			every = 100 * time.Millisecond
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if kb, err := memstat.ResidentKB(); err == nil && kb > peak.Load() {
				peak.Store(kb)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	res, err := i.Next.ExecuteActivity(ctx, in)
	close(stop)
	<-done
	st := runs.Stat{Activity: info.ActivityType.Name, StartedAt: start.UTC(), WallMS: time.Since(start).Milliseconds(),
		PeakRSSMB: float64(peak.Load()) / 1024, Attempt: info.Attempt, Worker: i.u.Worker}
	if st.Worker == "" {
		st.Worker = WorkerName()
	}
	if err != nil {
		st.Error = err.Error()
	}
	name := fmt.Sprintf("%s-%s-%d", info.ActivityType.Name, info.ActivityID, info.Attempt)
	if werr := runs.WriteStat(context.WithoutCancel(ctx), i.u.Store, info.WorkflowExecution.ID, name, st); werr != nil {
		activity.GetLogger(ctx).Warn("could not record activity usage", "err", werr)
	}
	return res, err
}
