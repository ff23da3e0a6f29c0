package telemetry

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// TemporalMetrics is a client.MetricsHandler (client.Options.MetricsHandler)
// that exports the Temporal SDK's own metrics (temporal_* : polls, task
// latencies, activity and workflow outcomes, RPCs) through OpenTelemetry's
// Prometheus exporter onto reg, next to FinSight's. onError receives metric
// errors (nil: ignored; the SDK's default would panic). shutdown flushes
// and stops the meter provider.
func TemporalMetrics(reg prometheus.Registerer, onError func(error)) (h client.MetricsHandler, shutdown func(context.Context) error, err error) {
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, nil, fmt.Errorf("temporal metrics exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	if onError == nil {
		onError = func(error) {}
	}
	h = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                provider.Meter("temporal-sdk-go"),
		OnError:              onError,
		UseMonotonicCounters: true,
	})
	return h, provider.Shutdown, nil
}
