package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/report"
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

// runFailed answers the error of reading runs: 404 naming them when
// there is no such run, else the store's failure (503 or 500).
func (s *Server) runFailed(c *gin.Context, err error) {
	if errors.Is(err, runs.ErrNotFound) {
		jsonError(c, http.StatusNotFound, err.Error())
		return
	}
	s.storeFailed(c, err)
}

// getRun answers GET /runs/{id}: one run record.
func (s *Server) getRun(c *gin.Context) {
	id := c.Param("id")
	if !validRunID(id) { // a slash, a dot segment, over maxRunID: no run has it
		jsonError(c, http.StatusNotFound, "no such run: invalid run id")
		return
	}
	if s.storeDown(c) {
		return
	}
	rec, err := runs.Read(c.Request.Context(), s.store, id)
	if err != nil {
		s.runFailed(c, err)
		return
	}
	c.JSON(http.StatusOK, rec)
}

// runReport answers GET /runs/{id}/report: the run's HTML report, rendered
// live from its record and the plots in its folder, so every run's report
// has the current navigation and this API's Web UI link.
func (s *Server) runReport(c *gin.Context) {
	id := c.Param("id")
	if !validRunID(id) {
		jsonError(c, http.StatusBadRequest, "invalid run id")
		return
	}
	if s.storeDown(c) {
		return
	}
	rec, plots, err := s.reportInputs(c.Request.Context(), id)
	if err != nil {
		s.runFailed(c, err)
		return
	}
	var page bytes.Buffer
	if err := report.HTML(&page, rec, plots, report.Nav{WebUI: s.workflowLink(rec.ID)}); err != nil {
		jsonError(c, http.StatusInternalServerError, err.Error())
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", reportCSP())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", page.Bytes())
}

// reportInputs reads a run's record and the plots in its folder, ordered
// and titled for its report.
func (s *Server) reportInputs(ctx context.Context, id string) (runs.Record, []report.Plot, error) {
	rec, err := runs.Read(ctx, s.store, id)
	if err != nil {
		return runs.Record{}, nil, err
	}
	dir := runs.PlotsDir(id)
	keys, err := s.store.List(ctx, dir)
	if err != nil {
		return runs.Record{}, nil, fmt.Errorf("list the plots of run %s: %w", id, err)
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		names = append(names, strings.TrimPrefix(k, dir))
	}
	return rec, report.PlotsFor(names), nil
}

// reportCSP is the report page's Content-Security-Policy: its images
// (served under /runs/{id}/plots/) and its one inline style block, by
// hash; no script, no other inline style, no framing, no forms.
func reportCSP() string {
	return "default-src 'none'; img-src 'self' data:; style-src " + report.StyleHash() +
		"; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
}

// maxRunID is the longest run (or fleet) id: a folder name's limit on
// most file systems. A longer one cannot name a run; asking the store for
// it would fail (a 500), not miss.
const maxRunID = 255

// validRunID reports whether id can name a run's folder in the store.
func validRunID(id string) bool {
	return len(id) <= maxRunID && !strings.ContainsAny(id, "/\\") && blob.ValidateKey(runs.Key(id, "run.json")) == nil
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
	if !validRunID(id) || blob.ValidateKey(runs.Key(id, rel)) != nil {
		jsonError(c, http.StatusBadRequest, "invalid run id")
		return
	}
	s.serveStoreFile(c, runs.Key(id, rel), contentType, "run "+id+" has no "+rel)
}

// serveStoreFile streams the object at key as contentType, or answers 400
// (a key the store cannot hold), 404 with missing, or the store's failure.
func (s *Server) serveStoreFile(c *gin.Context, key, contentType, missing string) {
	if blob.ValidateKey(key) != nil {
		jsonError(c, http.StatusBadRequest, "invalid name")
		return
	}
	if s.storeDown(c) {
		return
	}
	r, err := s.store.Get(c.Request.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		jsonError(c, http.StatusNotFound, missing)
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
