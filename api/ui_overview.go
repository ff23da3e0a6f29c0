package api

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/runs"
)

var uiOverviewPage = uiPage("overview.html", nil)

// uiOverviewView is what overview.html renders: one row per ticker that
// has a model or a run, and the totals above them.
type uiOverviewView struct {
	Nav                                   uiNav
	Rows                                  []uiTickerRow
	Tickers, Champions, BeatNaive, Active int
}

// uiTickerRow is a ticker's line of the overview.
type uiTickerRow struct {
	Ticker             string
	HasModel           bool
	Versions           int
	Champion           int // 0: none
	RMSE, Naive, Delta string
	Beat, Lost         bool
	Last               *uiLastRun
}

// uiLastRun is a ticker's most recent run.
type uiLastRun struct {
	ID, Kind, Status, Started, Age, WebUI string
}

// uiOverview answers GET /: every ticker with a registered model or a run
// — its champion against naive on the champion's test days, and its last
// run with a link into the Temporal Web UI.
func (s *Server) uiOverview(c *gin.Context) {
	if s.storeDown(c) {
		return
	}
	ctx := c.Request.Context()
	all, err := s.runsIndex.rows(ctx, s.store)
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	tickers, err := s.reg.Tickers(ctx)
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	last := lastRunByTicker(all)
	names := slices.Clone(tickers)
	for t := range last {
		if !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	slices.Sort(names)
	v := uiOverviewView{Nav: s.nav("overview", "", ""), Tickers: len(names)}
	now := time.Now()
	for _, t := range names {
		row := uiTickerRow{Ticker: t}
		if slices.Contains(tickers, t) {
			if err := s.fillChampion(ctx, t, &row); err != nil {
				s.storeFailed(c, err)
				return
			}
		}
		if r, ok := last[t]; ok {
			row.Last = &uiLastRun{ID: r.ID, Kind: r.Kind, Status: r.Status,
				Started: r.StartedAt.UTC().Format("2006-01-02 15:04"), Age: age(now.Sub(r.StartedAt)), WebUI: s.workflowLink(r.ID)}
			if r.Status == runs.StatusRunning {
				v.Active++
			}
		}
		if row.Champion > 0 {
			v.Champions++
		}
		if row.Beat {
			v.BeatNaive++
		}
		v.Rows = append(v.Rows, row)
	}
	render(c, uiOverviewPage, v)
}

// lastRunByTicker picks each ticker's newest run from rows (newest first).
func lastRunByTicker(rows []runs.Summary) map[string]runs.Summary {
	out := map[string]runs.Summary{}
	for _, r := range rows {
		if _, seen := out[r.Ticker]; !seen && r.Ticker != "" {
			out[r.Ticker] = r
		}
	}
	return out
}

// fillChampion puts the ticker's champion and its scores against naive
// (from the manifests /predict keeps in memory) into row.
func (s *Server) fillChampion(ctx context.Context, ticker string, row *uiTickerRow) error {
	m, _, err := s.manifest(ctx, ticker)
	if err != nil {
		return fmt.Errorf("manifest of %s: %w", ticker, err)
	}
	row.HasModel, row.Versions = true, len(m.Versions)
	v, ok := m.Alias(registry.Champion)
	if !ok {
		return nil
	}
	row.Champion = v.Version
	if rm, nv := v.Metrics.TestRMSE, v.Metrics.NaiveRMSE; v.Metrics.N > 0 && rm > 0 && nv > 0 {
		row.RMSE, row.Naive = fmt.Sprintf("%.4g", rm), fmt.Sprintf("%.4g", nv)
		row.Delta = fmt.Sprintf("%+.2f%%", 100*(rm-nv)/nv)
		row.Beat, row.Lost = rm < nv, rm > nv
	}
	return nil
}

// age says how long ago, roughly, for people.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}
