package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

// fleetAnswer is POST /fleet's answer.
type fleetAnswer struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Kind       string `json:"kind"`
	Tickers    int    `json:"tickers"` // listed; a prefix's files are counted by the fleet
	Prefix     string `json:"prefix,omitempty"`
	Report     string `json:"report_url"`
	links
}

// postFleet answers POST /fleet: it starts FleetPipeline on the JSON
// request (pipeline.FleetRequest: files already in the store, by item or
// prefix), 202 with its id; 409 when a fleet with the id asked for runs.
func (s *Server) postFleet(c *gin.Context) {
	w := s.workflows
	r := pipeline.DefaultFleetRequest()
	if !readOptionalJSON(c, &r) {
		return
	}
	in, err := r.Input()
	if err != nil {
		requestFailed(c, err)
		return
	}
	id, err := pipeline.FleetWorkflowID(r, in.Kind, time.Now())
	if err != nil {
		requestFailed(c, err)
		return
	}
	if s.storeDown(c) || !s.fleetFilesExist(c, in.Items) {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), w.timeout)
	defer cancel()
	in.Training.SearchAttributes = launch.HasSearchAttributes(ctx, w.client, w.namespace)
	run, ok := w.startOnce(ctx, c, id, pipeline.FleetWorkflow, in, "fleet")
	if !ok {
		return
	}
	ans := fleetAnswer{WorkflowID: id, RunID: run.GetRunID(), Kind: in.Kind, Tickers: len(in.Items), Prefix: in.Prefix,
		Report: "/ui/fleets/" + id, links: w.links(id)}
	ans.StatusURL = "/fleets/" + id
	slog.Info("api: fleet", "workflow_id", id, "kind", in.Kind, "tickers", len(in.Items), "prefix", in.Prefix)
	c.Header("Location", ans.StatusURL)
	c.JSON(http.StatusAccepted, ans)
}

// fleetFilesExist answers 400 naming the first item whose file is not in
// the store.
func (s *Server) fleetFilesExist(c *gin.Context, items []pipeline.FleetItem) bool {
	for i, it := range items {
		if err := blob.ValidateKey(it.CSVKey); err != nil {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("items[%d] (%s): %v", i, it.Ticker, err), "field": "items"})
			return false
		}
		_, err := s.store.Generation(c.Request.Context(), it.CSVKey)
		if errors.Is(err, blob.ErrNotFound) {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("items[%d] (%s): no file %s in the store: upload it first", i, it.Ticker, it.CSVKey), "field": "items"})
			return false
		}
		if err != nil {
			s.storeFailed(c, err)
			return false
		}
	}
	return true
}

// fleetStatus is GET /fleets/{id}'s answer: the report of a finished
// fleet, or the progress of a running one.
type fleetStatus struct {
	FleetID  string                  `json:"fleet_id"`
	Status   string                  `json:"status"` // running or completed
	Progress *pipeline.FleetProgress `json:"progress,omitempty"`
	Result   *pipeline.FleetResult   `json:"result,omitempty"`
}

// getFleet answers GET /fleets/{id}.
func (s *Server) getFleet(c *gin.Context) {
	st, ok := s.fleetStatus(c)
	if ok {
		c.JSON(http.StatusOK, st)
	}
}

// fleetStatus reads a fleet's report from the store, else asks the
// running fleet for its progress; it answers 4xx/5xx itself.
func (s *Server) fleetStatus(c *gin.Context) (fleetStatus, bool) {
	id := c.Param("id")
	res, p, ok := storedOrRunning[pipeline.FleetResult](s, c, id, pipeline.FleetReportKey(id),
		longWorkflow{what: "fleet", stored: "report"}, func(pipeline.FleetProgress) bool { return true })
	switch {
	case !ok:
		return fleetStatus{}, false
	case res != nil:
		return fleetStatus{FleetID: id, Status: "completed", Result: res}, true
	default:
		return fleetStatus{FleetID: id, Status: "running", Progress: p}, true
	}
}

// longWorkflow names a kind of long workflow in storedOrRunning's answers:
// what it is ("fleet") and what it leaves in the store ("report").
type longWorkflow struct{ what, stored string }

// storedOrRunning reads the result a long workflow (a fleet, a backtest)
// stored at key; without one it asks the running workflow id for its
// progress query, which isProgress must accept (another workflow type's
// answer decodes into a zero value). It answers 4xx/5xx itself; ok says
// whether one of the two came back.
func storedOrRunning[R, P any](s *Server, c *gin.Context, id, key string, kind longWorkflow, isProgress func(P) bool) (res *R, p *P, ok bool) {
	if !validRunID(id) {
		jsonError(c, http.StatusBadRequest, "invalid "+kind.what+" id")
		return nil, nil, false
	}
	if s.storeDown(c) {
		return nil, nil, false
	}
	res = new(R)
	err := blob.GetJSON(c.Request.Context(), s.store, key, res)
	if err == nil {
		return res, nil, true
	}
	if !errors.Is(err, blob.ErrNotFound) {
		s.storeFailed(c, err)
		return nil, nil, false
	}
	if s.workflows == nil {
		jsonError(c, http.StatusNotFound, "no "+kind.stored+" of "+kind.what+" "+id+" in the store (and this API does not reach Temporal to ask a running one)")
		return nil, nil, false
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.workflows.timeout)
	defer cancel()
	v, err := s.workflows.client.QueryWorkflow(ctx, id, "", pipeline.ProgressQuery)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		jsonError(c, http.StatusNotFound, "no "+kind.what+" "+id)
		return nil, nil, false
	}
	if err != nil {
		temporalFailed(c, err, gin.H{kind.what + "_id": id})
		return nil, nil, false
	}
	p = new(P)
	if err := v.Get(p); err != nil {
		jsonError(c, http.StatusNotFound, "workflow "+id+" is not a "+kind.what+": "+err.Error())
		return nil, nil, false
	}
	if !isProgress(*p) {
		jsonError(c, http.StatusNotFound, "workflow "+id+" is not a "+kind.what)
		return nil, nil, false
	}
	return nil, p, true
}

// startOnce starts workflowType under id, unless one runs with that id:
// 409 naming it (what is "a fleet", "a backtest"); a Temporal failure is
// answered too. It reports whether it started one.
func (w *workflowRoutes) startOnce(ctx context.Context, c *gin.Context, id, workflowType string, in any, what string) (client.WorkflowRun, bool) {
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: w.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, WorkflowExecutionErrorWhenAlreadyStarted: true}
	run, err := w.client.ExecuteWorkflow(ctx, opts, workflowType, in)
	var dup *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &dup) {
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": "a " + what + " " + id + " is already running", "workflow_id": id})
		return nil, false
	}
	if err != nil {
		temporalFailed(c, err, gin.H{"workflow_id": id})
		return nil, false
	}
	return run, true
}
