package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
)

// live makes a step that does not heartbeat on its own say it is alive
// while it runs (a ticker, see startHeartbeat), when the pipeline gave it a
// heartbeat timeout: a worker killed in the middle of it (kill -9, a lost
// machine) is then noticed within that timeout and the step retried on
// another worker, instead of after its whole start-to-close timeout.
// Local activities, and steps run without a heartbeat timeout, are left as
// they are.
func live[In, Out any](step func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		if activity.IsActivity(ctx) {
			if info := activity.GetInfo(ctx); !info.IsLocalActivity && info.HeartbeatTimeout > 0 {
				h := startHeartbeat(ctx, nil)
				defer h.end()
			}
		}
		return step(ctx, in)
	}
}
