package api

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

// backtestRequest is POST /backtest's body: what `starter backtest` builds
// from its flags (pipeline.BacktestInput: ticker, csv_key of a CSV in the
// store or none for the champion's data, spec, model, parallel, levels,
// …) and the workflow id (default backtest-<TICKER>-<UTC time>).
type backtestRequest struct {
	ID string `json:"id,omitempty"`
	pipeline.BacktestInput
}

// backtestAnswer is POST /backtest's answer.
type backtestAnswer struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Ticker     string `json:"ticker"`
	Folds      int    `json:"folds"`
	Data       string `json:"data"` // the CSV's URI, or registry:<TICKER>
	Report     string `json:"report_url"`
	links
}

// postBacktest answers POST /backtest: it checks the request and its data
// (the CSV in the store, or a registered model of the ticker) and starts
// a Backtest, 202 with its id; 409 while one runs with the id asked for.
func (s *Server) postBacktest(c *gin.Context) {
	var r backtestRequest
	if !readOptionalJSON(c, &r) {
		return
	}
	in, id, err := checkedBacktest(r, time.Now())
	if err != nil {
		requestFailed(c, err)
		return
	}
	if s.storeDown(c) {
		return
	}
	if err := launch.CheckBacktestData(c.Request.Context(), s.store, in.Ticker, in.CSVKey); err != nil {
		s.requestOrStoreFailed(c, err)
		return
	}
	in.Source = "registry:" + in.Ticker
	if in.CSVKey != "" {
		in.Source = s.store.URI(in.CSVKey)
	}
	w := s.workflows
	ctx, cancel := context.WithTimeout(c.Request.Context(), w.timeout)
	defer cancel()
	run, ok := w.startOnce(ctx, c, id, pipeline.BacktestWorkflow, in, "backtest")
	if !ok {
		return
	}
	ans := backtestAnswer{WorkflowID: id, RunID: run.GetRunID(), Ticker: in.Ticker, Folds: in.Spec.Folds, Data: in.Source,
		Report: "/backtests/" + id + "/report", links: w.links(id)}
	ans.StatusURL = "/backtests/" + id
	slog.Info("api: backtest", "workflow_id", id, "ticker", in.Ticker, "folds", in.Spec.Folds, "data", in.Source)
	c.Header("Location", ans.StatusURL)
	c.JSON(http.StatusAccepted, ans)
}

// checkedBacktest is the request's input with its defaults, checked, and
// its workflow id.
func checkedBacktest(r backtestRequest, now time.Time) (pipeline.BacktestInput, string, error) {
	in := r.BacktestInput
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return in, "", &pipeline.FieldError{Field: "ticker", Msg: err.Error()}
	}
	in.Ticker = ticker
	in = in.WithDefaults()
	if err := in.Check(); err != nil {
		return in, "", err
	}
	id := r.ID
	if id == "" {
		id = pipeline.BacktestWorkflowID(ticker, now)
	}
	if !validRunID(id) {
		return in, "", &pipeline.FieldError{Field: "id", Msg: "not a valid workflow id: " + id}
	}
	return in, id, nil
}

// backtestStatus is GET /backtests/{id}'s answer: the stored summary of a
// finished backtest, else the progress of a running one.
type backtestStatus struct {
	BacktestID string                     `json:"backtest_id"`
	Status     string                     `json:"status"` // running or completed
	Progress   *pipeline.BacktestProgress `json:"progress,omitempty"`
	Result     *pipeline.BacktestResult   `json:"result,omitempty"`
	Report     string                     `json:"report_url,omitempty"` // once completed
}

// getBacktest answers GET /backtests/{id}.
func (s *Server) getBacktest(c *gin.Context) {
	id := c.Param("id")
	res, p, ok := storedOrRunning[pipeline.BacktestResult](s, c, id, pipeline.BacktestSummaryKey(id),
		longWorkflow{what: "backtest", stored: "summary"}, func(p pipeline.BacktestProgress) bool { return p.Stage != "" })
	switch {
	case !ok:
	case res != nil:
		c.JSON(http.StatusOK, backtestStatus{BacktestID: id, Status: "completed", Result: res, Report: "/backtests/" + id + "/report"})
	default:
		c.JSON(http.StatusOK, backtestStatus{BacktestID: id, Status: "running", Progress: p})
	}
}

// backtestReport answers GET /backtests/{id}/report: the page the
// backtest wrote, under the report's Content-Security-Policy (its charts
// are relative links, served by backtestPlot).
func (s *Server) backtestReport(c *gin.Context) {
	id := c.Param("id")
	if !validRunID(id) {
		jsonError(c, http.StatusBadRequest, "invalid backtest id")
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", reportCSP())
	h.Set("Referrer-Policy", "no-referrer")
	s.serveStoreFile(c, pipeline.BacktestReportKey(id), "text/html; charset=utf-8", "backtest "+id+" has no report (yet)")
}

// backtestPlot answers GET /backtests/{id}/plots/{name}.
func (s *Server) backtestPlot(c *gin.Context) {
	id, name := c.Param("id"), c.Param("name")
	if !validRunID(id) {
		jsonError(c, http.StatusBadRequest, "invalid backtest id")
		return
	}
	if name != path.Base(name) || !strings.HasSuffix(name, ".png") {
		jsonError(c, http.StatusBadRequest, "plot names are plain .png file names")
		return
	}
	s.serveStoreFile(c, pipeline.BacktestDir(id)+"plots/"+name, "image/png", "backtest "+id+" has no plots/"+name)
}
