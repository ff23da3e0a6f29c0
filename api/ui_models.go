package api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/plots"
	"github.com/finsight/finsight/internal/registry"
)

// The registry page, /ui/models/{ticker}: has the champion ever beaten the
// naive forecast (and since when), the aliases, every version and every
// alias move, a chart of test RMSE against naive RMSE across versions, and,
// when the API has tokens, buttons that promote a version or roll the
// champion back through the authenticated routes (models.js).

var uiModelsPage = uiPage("models.html", nil)

// uiModelsTime is how the page writes times (always UTC).
const uiModelsTime = "2006-01-02 15:04 UTC"

// uiModelsView is what models.html renders; every string in it is data
// that html/template escapes, but for Chart, a data: URI of a PNG this
// package drew.
type uiModelsView struct {
	Nav      uiNav
	Ticker   string
	NoModel  bool // the ticker has no registered version: a 404 page
	Headline uiModelsHeadline
	Aliases  []uiModelsAlias
	Versions []uiModelsVersion
	History  []uiModelsMove
	Chart    template.URL
	NoChart  string // why there is no chart
	// Admin shows the promote and rollback controls (and loads
	// models.js): the API has tokens for its mutating routes.
	Admin bool
	// RollbackTo is the version a rollback would make champion (0: none).
	Champion, RollbackTo int
}

// uiModelsHeadline answers "has this ticker's champion ever beaten naive,
// and since when".
type uiModelsHeadline struct {
	Champion   int    // 0: no champion
	RMSE       string // the champion's test RMSE
	Naive      string // the naive forecast's RMSE on the same test days
	Pct        string // how far apart, in % of naive RMSE
	Beat, Lost bool   // the champion's RMSE is below / above naive
	Days       int
	Period     string
	NoMetrics  bool   // the champion has no test metrics
	Since      string // the sentence on the history of champions against naive
}

// uiModelsAlias is one alias and the version it points at.
type uiModelsAlias struct {
	Name    string
	Version int // 0: not set
	Created string
	RMSE    string
}

// uiModelsVersion is one row of the versions table.
type uiModelsVersion struct {
	Version                int
	Created, RunID, WebUI  string
	Data, DataFull         string
	Days                   int
	Period                 string
	RMSE, Naive, MASE      string
	Aliases                []string
	Beat, Lost, IsChampion bool
}

// uiModelsMove is one row of the alias history.
type uiModelsMove struct {
	At, Alias         string
	Previous, Version int // 0: none / alias removed
	By, RunID, WebUI  string
	Reason            string
	Forced, Rollback  bool
	Champion          bool // a move of the champion alias
}

// uiModels answers GET /ui/models/{ticker}: the ticker's registry page; a
// 404 page that says so when the ticker has no model.
func (s *Server) uiModels(c *gin.Context) {
	t, ok := s.tickerParam(c)
	if !ok {
		return
	}
	if s.storeDown(c) {
		return
	}
	m, err := s.reg.Manifest(c.Request.Context(), t)
	if err != nil && !errors.Is(err, registry.ErrNoModel) {
		s.storeFailed(c, err)
		return
	}
	v := uiModelsView{Nav: s.nav("models", t, ""), Ticker: t}
	if err != nil || len(m.Versions) == 0 {
		v.NoModel = true
		renderStatus(c, http.StatusNotFound, uiModelsPage, v)
		return
	}
	s.fillModelsView(&v, m)
	render(c, uiModelsPage, v)
}

// fillModelsView puts the manifest's headline, aliases, tables and chart
// into v.
func (s *Server) fillModelsView(v *uiModelsView, m registry.Manifest) {
	v.Champion = m.Aliases[registry.Champion]
	v.Headline = modelsHeadline(m)
	for _, name := range []string{registry.Champion, registry.Challenger} {
		a := uiModelsAlias{Name: name, Version: m.Aliases[name]}
		if ver, ok := m.Version(a.Version); ok {
			a.Created = ver.CreatedAt.UTC().Format(uiModelsTime)
			if hasMetrics(ver) {
				a.RMSE = fmtMetric(ver.Metrics.TestRMSE)
			}
		}
		v.Aliases = append(v.Aliases, a)
	}
	for i := len(m.Versions) - 1; i >= 0; i-- {
		v.Versions = append(v.Versions, s.modelsVersionRow(m, m.Versions[i]))
	}
	for i := len(m.History) - 1; i >= 0; i-- {
		v.History = append(v.History, s.modelsMoveRow(m.History[i]))
	}
	chart, err := modelsChart(m)
	if err != nil {
		v.NoChart = err.Error()
	} else {
		v.Chart = chart
	}
	v.Admin = s.workflows != nil && len(s.workflows.tokens.sums) > 0
	v.RollbackTo = rollbackTarget(m)
}

// modelsVersionRow is a version's row of the versions table.
func (s *Server) modelsVersionRow(m registry.Manifest, ver registry.Version) uiModelsVersion {
	mt := ver.Metrics
	r := uiModelsVersion{Version: ver.Version, Created: ver.CreatedAt.UTC().Format(uiModelsTime), RunID: ver.RunID,
		DataFull: ver.DataSHA256, Data: shortSHA(ver.DataSHA256)}
	if ver.RunID != "" {
		r.WebUI = s.workflowLink(ver.RunID)
	}
	if hasMetrics(ver) {
		r.Days, r.Period = mt.N, period(mt.FirstDate, mt.LastDate)
		r.RMSE, r.Naive = fmtMetric(mt.TestRMSE), fmtMetric(mt.NaiveRMSE)
		if mt.TestMAE > 0 && mt.NaiveMAE > 0 {
			r.MASE = fmt.Sprintf("%.3f", mt.TestMAE/mt.NaiveMAE)
		}
		r.Beat, r.Lost = beatsNaive(ver), mt.TestRMSE > mt.NaiveRMSE
	}
	for _, name := range []string{registry.Champion, registry.Challenger} {
		if n, ok := m.Aliases[name]; ok && n == ver.Version {
			r.Aliases = append(r.Aliases, name)
		}
	}
	r.IsChampion = m.Aliases[registry.Champion] == ver.Version
	return r
}

// modelsMoveRow is an alias move's row of the history table.
func (s *Server) modelsMoveRow(h registry.AliasMove) uiModelsMove {
	r := uiModelsMove{At: h.At.UTC().Format(uiModelsTime), Alias: h.Alias, Previous: h.Previous, Version: h.Version,
		By: h.By, RunID: h.RunID, Reason: h.Reason, Forced: h.Forced, Rollback: h.Rollback, Champion: h.Alias == registry.Champion}
	if h.RunID != "" {
		r.WebUI = s.workflowLink(h.RunID)
	}
	return r
}

// modelsHeadline compares the champion with naive on its test days, and
// tells from the alias history since when champions have (or last) beaten
// naive.
func modelsHeadline(m registry.Manifest) uiModelsHeadline {
	h := uiModelsHeadline{Champion: m.Aliases[registry.Champion], Since: championsSince(m)}
	ver, ok := m.Version(h.Champion)
	if !ok {
		return h
	}
	if !hasMetrics(ver) || ver.Metrics.NaiveRMSE <= 0 {
		h.NoMetrics = true
		return h
	}
	mt := ver.Metrics
	h.RMSE, h.Naive = fmtMetric(mt.TestRMSE), fmtMetric(mt.NaiveRMSE)
	h.Pct = fmt.Sprintf("%.1f%%", math.Abs(mt.TestRMSE-mt.NaiveRMSE)/mt.NaiveRMSE*100)
	h.Beat, h.Lost = beatsNaive(ver), mt.TestRMSE > mt.NaiveRMSE
	h.Days, h.Period = mt.N, period(mt.FirstDate, mt.LastDate)
	return h
}

// championsSince replays the champion's moves, oldest first, and says since
// when every champion has beaten naive (each on its own test days), or when
// the last one that did stopped being champion, or that none ever did.
func championsSince(m registry.Manifest) string {
	var streak, last *registry.AliasMove // the move that started the current run of winners; the last winner's
	var lastEnd time.Time                // when the last winner stopped being champion
	moves := 0
	for i := range m.History {
		h := &m.History[i]
		if h.Alias != registry.Champion {
			continue
		}
		moves++
		if ver, ok := m.Version(h.Version); ok && beatsNaive(ver) {
			if streak == nil {
				streak = h
			}
			last = h
			continue
		}
		if streak != nil {
			lastEnd = h.At
		}
		streak = nil
	}
	cur := m.Aliases[registry.Champion]
	switch {
	case cur != 0 && moves == 0:
		return "No champion move is recorded in the alias history."
	case streak != nil && streak.Version == cur:
		return fmt.Sprintf("The champion has beaten naive since %s, when v%d became champion.", streak.At.UTC().Format(uiModelsTime), cur)
	case streak != nil:
		return fmt.Sprintf("Every champion has beaten naive since %s, when v%d became champion.", streak.At.UTC().Format(uiModelsTime), streak.Version)
	case last != nil:
		return fmt.Sprintf("No champion has beaten naive since %s; the last that did was v%d.", lastEnd.UTC().Format(uiModelsTime), last.Version)
	case cur == 0 && moves == 0:
		return "No version has been champion yet."
	default:
		return "No champion has ever beaten naive."
	}
}

// rollbackTarget is the version a rollback would make champion, as
// registry.Rollback finds it (0: none, no rollback possible).
func rollbackTarget(m registry.Manifest) int {
	cur := m.Aliases[registry.Champion]
	if cur == 0 {
		return 0
	}
	for i := len(m.History) - 1; i >= 0; i-- {
		h := m.History[i]
		if h.Alias == registry.Champion && h.Version == cur && !h.Rollback {
			return h.Previous
		}
	}
	return 0
}

// modelsChart draws test RMSE and naive RMSE over the versions that have
// metrics as a PNG data: URI; an error says why there is none.
func modelsChart(m registry.Manifest) (template.URL, error) {
	var xs, rmse, naive []float64
	for _, v := range m.Versions {
		if hasMetrics(v) {
			xs = append(xs, float64(v.Version))
			rmse = append(rmse, v.Metrics.TestRMSE)
			naive = append(naive, v.Metrics.NaiveRMSE)
		}
	}
	if len(xs) < 2 {
		return "", errors.New("fewer than 2 versions have test metrics")
	}
	var png bytes.Buffer
	lines := []plots.Line{{Name: "test RMSE", Values: rmse}, {Name: "naive RMSE", Values: naive}}
	if err := plots.Curve(&png, m.Ticker+": test RMSE by version (each on its own test days)", "version", xs, lines); err != nil {
		return "", fmt.Errorf("draw the chart of %s: %w", m.Ticker, err)
	}
	// The URI is built only from the PNG drawn here, so it is safe to
	// mark as a URL.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png.Bytes())), nil
}

// hasMetrics reports whether a version has test metrics (as Manifest.Best
// decides).
func hasMetrics(v registry.Version) bool {
	mt := v.Metrics
	return !math.IsNaN(mt.TestRMSE) && !(mt.N == 0 && mt.TestRMSE == 0)
}

// beatsNaive reports whether a version's test RMSE is below the naive
// forecast's on the same days.
func beatsNaive(v registry.Version) bool {
	return hasMetrics(v) && v.Metrics.NaiveRMSE > 0 && v.Metrics.TestRMSE < v.Metrics.NaiveRMSE
}

func fmtMetric(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return fmt.Sprintf("%.4g", f)
}

// period is "first – last" of a test split ("" when unknown).
func period(first, last string) string {
	if first == "" && last == "" {
		return ""
	}
	return first + " – " + last
}

// shortSHA is the first 12 hex digits of a SHA-256.
func shortSHA(sha string) string {
	return sha[:min(12, len(sha))]
}

// renderStatus is render with another status than 200.
func renderStatus(c *gin.Context, status int, t *template.Template, data any) {
	var page bytes.Buffer
	if err := t.Execute(&page, data); err != nil {
		jsonError(c, http.StatusInternalServerError, "render "+t.Name()+": "+err.Error())
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", page.Bytes())
}
