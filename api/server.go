// Package api is FinSight's HTTP API (Gin): forecasts from registered models,
// health, and (when enabled) the Cloud Storage hook that starts inbox scans.
// Models are loaded from the registry on demand and reloaded when a newer
// version is registered.
package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
)

// Server answers HTTP requests from the models in a store.
type Server struct {
	store  blob.Store
	reg    registry.Registry
	models *modelCache
	hook   *gcsHook // nil: POST /hooks/gcs answers 404
}

// New serves the models registered in store, run on device.
func New(store blob.Store, device gotch.Device) *Server {
	reg := registry.Registry{Store: store}
	return &Server{store: store, reg: reg, models: newModelCache(reg, device)}
}

// Handler routes requests to the server's handlers.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.POST("/predict", s.predict)
	r.GET("/models", s.listModels)
	r.GET("/models/:ticker", s.getModels)
	r.GET("/runs", s.listRuns)
	r.GET("/runs/:id", s.getRun)
	r.GET("/runs/:id/report", s.runReport)
	r.GET("/runs/:id/plots/:name", s.runPlot)
	r.POST("/hooks/gcs", s.gcsHookHandler)
	r.NoRoute(func(c *gin.Context) {
		jsonError(c, http.StatusNotFound, "no such endpoint: "+c.Request.Method+" "+c.Request.URL.Path)
	})
	return r
}

// Close frees every loaded model.
func (s *Server) Close() { s.models.close() }

func jsonError(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}
