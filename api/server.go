// Package api is FinSight's HTTP API (Gin): forecasts from registered models
// (for one window of values, or for every window of an uploaded price file),
// health and readiness, and (when enabled) the Cloud Storage hook that starts
// inbox scans. Registry manifests are kept in memory and checked for
// changes at most every second; models are loaded on demand, and a new
// champion is loaded once the check sees it. While the store is unavailable,
// store-backed routes answer 503 with Retry-After and /predict keeps
// answering from the models it has loaded.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/telemetry"
)

// Defaults of the Options.
const (
	DefaultRetryAfter    = 5 * time.Second
	DefaultLookupTimeout = 2 * time.Second
)

// Server answers HTTP requests from the models in a store.
type Server struct {
	store         blob.Store
	reg           registry.Registry
	models        *modelCache
	hook          *gcsHook // nil: POST /hooks/gcs answers 404
	health        *storeHealth
	lookupTimeout time.Duration
	readyChecks   []readyCheck // besides the store's
	log           *slog.Logger
	registry      *prometheus.Registry // served on GET /metrics
	metrics       *telemetry.API

	// The workflow routes (workflows_http.go); nil: the mutating ones
	// answer 403 and GET /workflows/{id} 404.
	workflows *workflowRoutes

	manifests *manifestCache                 // the registry manifests /predict answers from
	pinned    *pinnedModels                  // versions asked for by ?version= or ?alias=
	runsIndex *runsIndexCache                // the index of runs /ui/runs lists (ui_runs_index.go)
	webUI     func(workflowID string) string // WithWebUI; nil: from EnableWorkflows, if any

	cors *corsPolicy // WithCORS; nil: no CORS headers (cors.go)
}

// Option configures New.
type Option func(*Server)

// WithRetryAfter sets how long, after a store call found the store
// unavailable, store-backed routes answer 503 at once without trying it, and
// the Retry-After they send (default DefaultRetryAfter).
func WithRetryAfter(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.health.retryAfter = d
		}
	}
}

// WithLookupTimeout bounds each check of a ticker's registry manifest by
// /predict once it has one in memory (past it, what it has answers), and
// each check of /readyz (default DefaultLookupTimeout).
func WithLookupTimeout(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.lookupTimeout = d
		}
	}
}

// New serves the models registered in store, run on device. Give it a store
// with deadlines (blob.Open's), so that a store outage ends in
// blob.ErrUnavailable rather than a hung request.
func New(store blob.Store, device gotch.Device, opts ...Option) *Server {
	reg := registry.Registry{Store: store}
	s := &Server{
		store:         store,
		reg:           reg,
		models:        newModelCache(reg, device),
		manifests:     newManifestCache(),
		pinned:        newPinnedModels(),
		runsIndex:     newRunsIndexCache(),
		health:        &storeHealth{retryAfter: DefaultRetryAfter},
		lookupTimeout: DefaultLookupTimeout,
		log:           slog.Default(),
		registry:      telemetry.NewRegistry(),
	}
	s.metrics = telemetry.NewAPI(s.registry)
	s.models.metrics = s.metrics
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// AddReadyCheck makes GET /readyz also check a dependency (e.g. "temporal"
// when the GCS hook is on); check must honour its context. Call it before
// Handler.
func (s *Server) AddReadyCheck(name string, check func(context.Context) error) {
	s.readyChecks = append(s.readyChecks, readyCheck{name: name, check: check})
}

// Handler routes requests to the server's handlers.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.RedirectTrailingSlash = false // a JSON 404 rather than an HTML redirect
	r.Use(s.observe)
	r.Use(s.scrubErrorAnswers()) // no folder of this machine in an error answer (hardening.go)
	r.Use(s.recoverPanics)       // 500 {"error":"internal error"}: no panic text or stack in an answer (hardening.go)
	r.Use(s.corsHeaders)         // off unless WithCORS (cors.go)
	r.Use(s.boundBody)           // every route's body bounded (hardening.go)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.serveMetrics)
	r.GET("/openapi.json", serveOpenAPI)
	r.POST("/predict", s.predict)
	r.GET("/models", s.listModels)
	r.GET("/models/:ticker", s.getModels)
	r.GET("/runs", s.listRuns)
	r.GET("/runs/:id", s.getRun)
	r.GET("/runs/:id/report", s.runReport)
	r.GET("/runs/:id/plots/:name", s.runPlot)
	s.uiRoutes(r) // GET /ui/runs, /ui/style.css: the experiment tracking pages (ui.go)
	r.POST("/hooks/gcs", s.gcsHookHandler)
	// Workflows and aliases (workflows_http.go, admin.go): the mutating
	// routes need a bearer token (auth.go).
	r.POST("/train", s.requireToken, s.postTrain)
	r.POST("/fleet", s.requireToken, s.postFleet)
	r.GET("/fleets/:id", s.getFleet)
	r.POST("/backtest", s.requireToken, s.postBacktest)
	r.GET("/backtests/:id", s.getBacktest)
	r.GET("/backtests/:id/report", s.backtestReport)
	r.GET("/backtests/:id/plots/:name", s.backtestPlot)
	r.POST("/retrain", s.requireToken, s.postRetrain)
	r.GET("/workflows/:id", s.getWorkflow)
	r.DELETE("/workflows/:id", s.requireToken, s.deleteWorkflow)
	r.POST("/models/:ticker/promote", s.requireToken, s.promote)
	r.POST("/models/:ticker/rollback", s.requireToken, s.rollback)
	r.NoRoute(func(c *gin.Context) {
		jsonError(c, http.StatusNotFound, "no such endpoint: "+c.Request.Method+" "+c.Request.URL.Path)
	})
	return r
}

// Close frees every loaded model.
func (s *Server) Close() {
	s.models.close()
	s.pinned.close()
}

func jsonError(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}
