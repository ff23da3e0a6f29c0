package telemetry

import (
	"context"
	"errors"
	"reflect"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TickerHeader is the Temporal header that carries a workflow's ticker to
// the activities and child workflows it starts.
const TickerHeader = "finsight-ticker"

// LogKey is the key of the ticker on log lines.
const LogKey = "ticker"

// Interceptor is a worker interceptor (worker.Options.Interceptors) that
//
//   - finds each workflow's ticker in its input (the first argument with a
//     string field Ticker, e.g. TrainingInput) or, for a child workflow
//     whose input has none, in the TickerHeader its parent set, and writes
//     it on the header of every activity, local activity and child workflow
//     the workflow starts (a deterministic function of the input: replay
//     writes the same, and the SDK does not compare headers on replay);
//   - gives each activity the ticker of its own input when it has a Ticker
//     field, else the header's, in its context (TickerFrom) and on every
//     line of activity.GetLogger (key "ticker", next to the SDK's
//     WorkflowID, RunID, ActivityType and Attempt), and likewise on the
//     lines of workflow.GetLogger;
//   - times every activity execution into Metrics'
//     finsight_step_duration_seconds{activity,outcome}, and logs it as one
//     line through the activity logger ("step finished", "step failed" or
//     "step cancelled", with duration_ms), so every step of a run leaves
//     a line with its WorkflowID.
//
// Activities of a workflow started by a worker without it still get the
// ticker from their own input when it has one.
type Interceptor struct {
	interceptor.WorkerInterceptorBase
	Metrics *Worker // nil: no step metrics
}

// InterceptActivity wraps one activity execution.
func (i *Interceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, root: i}
}

// InterceptWorkflow wraps one workflow execution.
func (i *Interceptor) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type tickerKey struct{}

// WithTicker returns ctx carrying ticker (see TickerFrom).
func WithTicker(ctx context.Context, ticker string) context.Context {
	return context.WithValue(ctx, tickerKey{}, ticker)
}

// TickerFrom is the ticker the Interceptor found for the running activity
// ("" when none).
func TickerFrom(ctx context.Context) string {
	t, _ := ctx.Value(tickerKey{}).(string)
	return t
}

type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
	root *Interceptor
}

func (a *activityInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	return a.Next.Init(&activityOutbound{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: outbound}})
}

func (a *activityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	ticker := TickerOf(in.Args...)
	if ticker == "" {
		ticker = tickerFromHeader(interceptor.Header(ctx))
	}
	if ticker != "" {
		ctx = WithTicker(ctx, ticker)
	}
	start := time.Now()
	res, err := a.Next.ExecuteActivity(ctx, in)
	d := time.Since(start)
	outcome := outcomeOf(err)
	a.root.Metrics.Step(activity.GetInfo(ctx).ActivityType.Name, outcome, d)
	l, ms := activity.GetLogger(ctx), float64(d.Microseconds())/1000
	switch outcome {
	case OutcomeOK:
		l.Info("step finished", "duration_ms", ms)
	case OutcomeCancelled:
		l.Info("step cancelled", "duration_ms", ms)
	default:
		l.Warn("step failed", "duration_ms", ms, "err", err)
	}
	return res, err
}

type activityOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (a *activityOutbound) GetLogger(ctx context.Context) log.Logger {
	l := a.Next.GetLogger(ctx)
	if t := TickerFrom(ctx); t != "" {
		return log.With(l, LogKey, t)
	}
	return l
}

type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	ticker string
}

func (w *workflowInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return w.Next.Init(&workflowOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, in: w})
}

func (w *workflowInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	w.ticker = TickerOf(in.Args...)
	if w.ticker == "" {
		w.ticker = tickerFromHeader(interceptor.WorkflowHeader(ctx))
	}
	return w.Next.ExecuteWorkflow(ctx, in)
}

type workflowOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	in *workflowInbound
}

// stamp writes the workflow's ticker on the header of what ctx starts.
func (w *workflowOutbound) stamp(ctx workflow.Context) {
	if w.in.ticker == "" {
		return
	}
	h := interceptor.WorkflowHeader(ctx)
	if h == nil {
		return
	}
	if p, err := converter.GetDefaultDataConverter().ToPayload(w.in.ticker); err == nil {
		h[TickerHeader] = p
	}
}

func (w *workflowOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	w.stamp(ctx)
	return w.Next.ExecuteActivity(ctx, activityType, args...)
}

func (w *workflowOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	w.stamp(ctx)
	return w.Next.ExecuteLocalActivity(ctx, activityType, args...)
}

func (w *workflowOutbound) ExecuteChildWorkflow(ctx workflow.Context, childWorkflowType string, args ...any) workflow.ChildWorkflowFuture {
	w.stamp(ctx)
	return w.Next.ExecuteChildWorkflow(ctx, childWorkflowType, args...)
}

func (w *workflowOutbound) NewContinueAsNewError(ctx workflow.Context, wfn any, args ...any) error {
	w.stamp(ctx)
	return w.Next.NewContinueAsNewError(ctx, wfn, args...)
}

func (w *workflowOutbound) GetLogger(ctx workflow.Context) log.Logger {
	l := w.Next.GetLogger(ctx)
	if w.in.ticker != "" {
		return log.With(l, LogKey, w.in.ticker)
	}
	return l
}

// TickerOf is the Ticker field of the first argument (a struct or a
// pointer to one) that has a non-empty one.
func TickerOf(args ...any) string {
	for _, a := range args {
		v := reflect.ValueOf(a)
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				break
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		if f := v.FieldByName("Ticker"); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			return f.String()
		}
	}
	return ""
}

func tickerFromHeader(h map[string]*commonpb.Payload) string {
	p := h[TickerHeader]
	if p == nil {
		return ""
	}
	var t string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &t); err != nil {
		return ""
	}
	return t
}

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case temporal.IsCanceledError(err), errors.Is(err, context.Canceled):
		return OutcomeCancelled
	}
	return OutcomeError
}
