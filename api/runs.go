package api

import (
	"errors"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
)

// listRuns answers GET /runs[?ticker=T]: the run records, newest first.
func (s *Server) listRuns(c *gin.Context) {
	ticker := ""
	if q := c.Query("ticker"); q != "" {
		t, err := pipeline.NormalizeTicker(q)
		if err != nil {
			jsonError(c, http.StatusBadRequest, err.Error())
			return
		}
		ticker = t
	}
	if s.storeDown(c) {
		return
	}
	list, err := runs.List(c.Request.Context(), s.store, ticker)
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	if list == nil {
		list = []runs.Record{}
	}
	c.JSON(http.StatusOK, gin.H{"runs": list})
}

// getRun answers GET /runs/{id}: one run record.
func (s *Server) getRun(c *gin.Context) {
	if s.storeDown(c) {
		return
	}
	rec, err := runs.Read(c.Request.Context(), s.store, c.Param("id"))
	if errors.Is(err, runs.ErrNotFound) {
		jsonError(c, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	c.JSON(http.StatusOK, rec)
}

// runReport answers GET /runs/{id}/report: the run's HTML report.
func (s *Server) runReport(c *gin.Context) {
	s.serveRunFile(c, "report.html", "text/html; charset=utf-8")
}

// runPlot answers GET /runs/{id}/plots/{name}: a PNG of the report.
func (s *Server) runPlot(c *gin.Context) {
	name := c.Param("name")
	if name != path.Base(name) || !strings.HasSuffix(name, ".png") {
		jsonError(c, http.StatusBadRequest, "plot names are plain .png file names")
		return
	}
	s.serveRunFile(c, "plots/"+name, "image/png")
}

func (s *Server) serveRunFile(c *gin.Context, rel, contentType string) {
	id := c.Param("id")
	if strings.ContainsAny(id, "/\\") || blob.ValidateKey(runs.Key(id, rel)) != nil {
		jsonError(c, http.StatusBadRequest, "invalid run id")
		return
	}
	if s.storeDown(c) {
		return
	}
	r, err := s.store.Get(c.Request.Context(), runs.Key(id, rel))
	if errors.Is(err, blob.ErrNotFound) {
		jsonError(c, http.StatusNotFound, "run "+id+" has no "+rel)
		return
	}
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	defer r.Close()
	c.Header("Content-Type", contentType)
	c.Status(http.StatusOK)
	_, _ = io.Copy(c.Writer, r)
}
