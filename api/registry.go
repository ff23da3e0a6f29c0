package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/registry"
)

// listModels answers GET /models: every ticker's manifest (versions,
// aliases, alias history).
func (s *Server) listModels(c *gin.Context) {
	if s.storeDown(c) {
		return
	}
	tickers, err := s.reg.Tickers(c.Request.Context())
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	out := []registry.Manifest{}
	for _, t := range tickers {
		m, err := s.reg.Manifest(c.Request.Context(), t)
		if err != nil {
			s.storeFailed(c, err)
			return
		}
		out = append(out, m)
	}
	c.JSON(http.StatusOK, gin.H{"models": out})
}

// getModels answers GET /models/{ticker}.
func (s *Server) getModels(c *gin.Context) {
	t, ok := s.tickerParam(c)
	if !ok {
		return
	}
	if s.storeDown(c) {
		return
	}
	m, err := s.reg.Manifest(c.Request.Context(), t)
	if errors.Is(err, registry.ErrNoModel) {
		jsonError(c, http.StatusNotFound, "no model registered for ticker "+t)
		return
	}
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}
