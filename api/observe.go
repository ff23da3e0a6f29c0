package api

import (
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/telemetry"
)

// WithLogger sets the logger of the request lines (default slog's default
// logger when New runs).
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) {
		if l != nil {
			s.log = l
		}
	}
}

// Keys handlers set on the gin.Context for the request's log line.
const (
	logTicker       = "finsight.ticker"
	logModelVersion = "finsight.model_version"
)

// quietRoutes are logged at debug level when they succeed: probes and
// scrapes come every few seconds.
var quietRoutes = map[string]bool{"/metrics": true, "/healthz": true, "/readyz": true}

// observe logs one line per request (method, route, path, status,
// latency, and the ticker and model version when known) and counts it in
// finsight_api_requests_total and finsight_api_request_duration_seconds.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	d := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // one series for every unknown path
	}
	status := c.Writer.Status()
	s.metrics.Request(c.Request.Method, route, status, d)

	level := slog.LevelInfo
	switch {
	case status >= http.StatusInternalServerError:
		level = slog.LevelError
	case quietRoutes[route] && status < http.StatusBadRequest:
		level = slog.LevelDebug
	}
	ctx := c.Request.Context()
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Float64("latency_ms", math.Round(float64(d.Microseconds()))/1000),
	}
	ticker := c.GetString(logTicker)
	if ticker == "" {
		ticker = c.Param("ticker")
	}
	if ticker == "" {
		ticker = c.Query("ticker")
	}
	if ticker != "" {
		attrs = append(attrs, slog.String("ticker", ticker))
	}
	if v, ok := c.Get(logModelVersion); ok {
		attrs = append(attrs, slog.Any("model_version", v))
	}
	if len(c.Errors) > 0 {
		attrs = append(attrs, slog.String("err", c.Errors.String()))
	}
	s.log.LogAttrs(ctx, level, "request", attrs...)
}

// serveMetrics answers GET /metrics from the server's own registry.
func (s *Server) serveMetrics(c *gin.Context) {
	telemetry.Handler(s.registry).ServeHTTP(c.Writer, c.Request)
}
