package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
)

var uiComparePage = uiPage("compare.html", template.FuncMap{
	"hasError": func(rs []uiCompareRun) bool {
		return slices.ContainsFunc(rs, func(r uiCompareRun) bool { return r.Error != "" })
	},
})

// MaxCompareRuns is how many runs /ui/compare puts side by side.
const MaxCompareRuns = 8

// uiCompareView is what compare.html renders.
type uiCompareView struct {
	Nav          uiNav
	Query        string // the runs, comma-separated, for the form
	Runs         []uiCompareRun
	Differ, Same []uiCompareRow // parameters whose values differ, and those equal in every run
	Metrics      []uiCompareRow
	Common       *uiCommonDays
	Charts       []uiChart
	Notes        []string
}

// uiCompareRun heads a run's column.
type uiCompareRun struct {
	ID, Ticker, Kind, Status, Error, WebUI string
}

// uiCompareRow is one parameter or metric across the runs. Differs marks
// a parameter whose values are not all the same; Best is the index of the
// best value of a metric (-1: none or a tie).
type uiCompareRow struct {
	Name    string
	Values  []string
	Differs bool
	Best    int
}

// uiChart is a chart drawn for the page, inlined as a data: URI.
type uiChart struct {
	Title, Note string
	Src         uiDataURI
}

// uiCompare answers GET /ui/compare?runs=a,b[,…]: the runs side by side —
// their parameters (differences highlighted), metrics, learning curves
// overlaid, and actual vs predicted vs naive on the test days they share.
func (s *Server) uiCompare(c *gin.Context) {
	ids, err := parseCompareRuns(strings.Join(c.QueryArray("runs"), ","))
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	if s.storeDown(c) {
		return
	}
	ctx := c.Request.Context()
	recs, err := s.readRuns(ctx, ids)
	if err != nil {
		s.runFailed(c, err)
		return
	}
	v := uiCompareView{Nav: s.nav("compare", commonTicker(recs), ""), Query: strings.Join(ids, ",")}
	outs := make([]runOutcome, len(recs))
	for i, r := range recs {
		v.Runs = append(v.Runs, uiCompareRun{ID: r.ID, Ticker: r.Ticker, Kind: runKind(r), Status: r.Status, Error: r.Error, WebUI: s.workflowLink(r.ID)})
		outs[i] = outcomeOf(r)
	}
	v.Differ, v.Same = compareParams(recs)
	v.Metrics = compareMetrics(recs, outs)
	if ch, ok := learningCurves(recs, outs); ok {
		v.Charts = append(v.Charts, ch...)
	}
	preds, notes, err := s.readPredictions(ctx, recs)
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	v.Notes = notes
	if common, charts, note := commonDays(preds); common != nil {
		v.Common, v.Charts = common, append(v.Charts, charts...)
	} else if note != "" {
		v.Notes = append(v.Notes, note)
	}
	render(c, uiComparePage, v)
}

// parseCompareRuns reads ?runs=: run ids separated by commas (or spaces),
// or the parameter repeated (the runs page's checkboxes), two to
// MaxCompareRuns of them, each named once.
func parseCompareRuns(q string) ([]string, error) {
	var ids []string
	for _, f := range strings.FieldsFunc(q, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !validRunID(f) {
			return nil, fmt.Errorf("invalid run id %q", f)
		}
		if !slices.Contains(ids, f) {
			ids = append(ids, f)
		}
	}
	if len(ids) < 2 || len(ids) > MaxCompareRuns {
		return nil, fmt.Errorf("runs: want 2 to %d run ids separated by commas (?runs=a,b), got %d", MaxCompareRuns, len(ids))
	}
	return ids, nil
}

// readRuns reads the records, in order; a missing one is runs.ErrNotFound
// naming every missing id.
func (s *Server) readRuns(ctx context.Context, ids []string) ([]runs.Record, error) {
	var out []runs.Record
	var missing []string
	for _, id := range ids {
		r, err := runs.Read(ctx, s.store, id)
		switch {
		case errors.Is(err, runs.ErrNotFound):
			missing = append(missing, id)
		case err != nil:
			return nil, err
		default:
			out = append(out, r)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no run %s: %w", strings.Join(missing, ", "), runs.ErrNotFound)
	}
	return out, nil
}

// commonTicker is the runs' ticker when they share one.
func commonTicker(recs []runs.Record) string {
	for _, r := range recs[1:] {
		if r.Ticker != recs[0].Ticker {
			return ""
		}
	}
	return recs[0].Ticker
}

func runKind(r runs.Record) string {
	if r.Workflow == pipeline.RetrainingWorkflow || r.Retrain != nil {
		return "retraining"
	}
	return "training"
}

// runOutcome is what a training or a retraining run produced, whichever
// it was.
type runOutcome struct {
	ok        bool
	version   int
	metrics   metrics.TestSummary
	efficacy  *metrics.Comparison
	curve     []pipeline.EpochLoss
	training  pipeline.TrainingRun
	promotion pipeline.Promotion
}

func outcomeOf(r runs.Record) runOutcome {
	switch {
	case r.Result != nil:
		res := r.Result
		return runOutcome{ok: true, version: res.ModelVersion, metrics: res.Metrics, efficacy: &res.Efficacy.Overall,
			curve: res.Curve, training: res.Training, promotion: res.Promotion}
	case r.RetrainResult != nil && r.RetrainResult.ModelVersion > 0:
		res := r.RetrainResult
		return runOutcome{ok: true, version: res.ModelVersion, metrics: res.Metrics, curve: res.Curve,
			training: res.Training, promotion: res.Promotion}
	}
	return runOutcome{}
}

// duration is how long the run took ("" while it runs).
func duration(r runs.Record) (string, float64) {
	if r.FinishedAt == nil {
		return "", 0
	}
	d := r.FinishedAt.Sub(r.StartedAt)
	return d.Round(time.Second).String(), d.Seconds()
}
