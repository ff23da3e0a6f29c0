package api

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
)

// uiColumn is a column of the runs table: its sort key (?sort=), title and
// order. num columns sort by a number that may be missing (always last);
// str columns by text.
type uiColumn struct {
	key, title string
	desc       bool // sorted descending when first clicked
	num        func(*runs.Summary) (float64, bool)
	str        func(*runs.Summary) string
}

func intCol(f func(*runs.Summary) int) func(*runs.Summary) (float64, bool) {
	return func(r *runs.Summary) (float64, bool) { v := f(r); return float64(v), v != 0 }
}

func optCol(f func(*runs.Summary) *float64) func(*runs.Summary) (float64, bool) {
	return func(r *runs.Summary) (float64, bool) {
		if v := f(r); v != nil {
			return *v, true
		}
		return 0, false
	}
}

// uiColumns are the table's columns, in order (the template's cells follow
// them).
var uiColumns = []uiColumn{
	{key: "id", title: "run", str: func(r *runs.Summary) string { return r.ID }},
	{key: "ticker", title: "ticker", str: func(r *runs.Summary) string { return r.Ticker }},
	{key: "kind", title: "kind", str: func(r *runs.Summary) string { return r.Kind }},
	{key: "status", title: "status", str: func(r *runs.Summary) string { return r.Status }},
	{key: "data", title: "data", str: func(r *runs.Summary) string { return r.Data }},
	{key: "epochs", title: "epochs", num: intCol(func(r *runs.Summary) int { return r.Epochs })},
	{key: "units", title: "units", num: intCol(func(r *runs.Summary) int { return r.Units })},
	{key: "layers", title: "layers", num: intCol(func(r *runs.Summary) int { return r.Layers })},
	{key: "lookback", title: "lookback", num: intCol(func(r *runs.Summary) int { return r.Lookback })},
	{key: "lr", title: "lr", num: func(r *runs.Summary) (float64, bool) { return r.LR, r.LR != 0 }},
	{key: "trials", title: "trials", num: intCol(func(r *runs.Summary) int { return r.Trials })},
	{key: "rmse", title: "test RMSE", num: optCol(func(r *runs.Summary) *float64 { return r.TestRMSE })},
	{key: "naive", title: "naive RMSE", num: optCol(func(r *runs.Summary) *float64 { return r.NaiveRMSE })},
	{key: "mase", title: "MASE", num: optCol(func(r *runs.Summary) *float64 { return r.MASE })},
	{key: "dm_p", title: "DM p", num: optCol(func(r *runs.Summary) *float64 { return r.DMP })},
	{key: "promoted", title: "promoted", desc: true, num: func(r *runs.Summary) (float64, bool) {
		if r.Promoted {
			return 1, true
		}
		return 0, true
	}},
	{key: "started", title: "started", desc: true, num: func(r *runs.Summary) (float64, bool) {
		return float64(r.StartedAt.UnixNano()), !r.StartedAt.IsZero()
	}},
	{key: "duration", title: "duration", desc: true, num: func(r *runs.Summary) (float64, bool) {
		return float64(r.Duration()), r.EndedAt != nil
	}},
	{key: "error", title: "error", str: func(r *runs.Summary) string { return r.Error }},
}

var uiRunsPage = uiPage("runs.html", nil)

// uiStatuses are the statuses ?status= may name.
var uiStatuses = []string{runs.StatusRunning, runs.StatusCompleted, runs.StatusFailed, runs.StatusCancelled}

// compare orders a and b by the column, missing values last either way.
func (col *uiColumn) compare(a, b *runs.Summary, desc bool) int {
	var c int
	if col.num != nil {
		va, oka := col.num(a)
		vb, okb := col.num(b)
		switch {
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		default:
			c = cmp.Compare(va, vb)
		}
	} else {
		sa, sb := col.str(a), col.str(b)
		if (sa == "") != (sb == "") {
			if sa != "" {
				return -1
			}
			return 1
		}
		c = strings.Compare(sa, sb)
	}
	if desc {
		c = -c
	}
	return c
}

// uiQuery is a /ui/runs request's view: filters, order and page.
type uiQuery struct {
	ticker, status, sort, order string
	page                        int
}

func (q uiQuery) href(page int, sort, order string) string {
	v := url.Values{}
	if q.ticker != "" {
		v.Set("ticker", q.ticker)
	}
	if q.status != "" {
		v.Set("status", q.status)
	}
	v.Set("sort", sort)
	v.Set("order", order)
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return "/ui/runs?" + v.Encode()
}

func parseUIQuery(c *gin.Context) (uiQuery, error) {
	q := uiQuery{status: c.Query("status"), sort: c.DefaultQuery("sort", "started"), order: c.Query("order"), page: 1}
	if t := c.Query("ticker"); t != "" {
		n, err := pipeline.NormalizeTicker(t)
		if err != nil {
			return q, err
		}
		q.ticker = n
	}
	if q.status != "" && !slices.Contains(uiStatuses, q.status) {
		return q, fmt.Errorf("invalid status %q: want one of %s", q.status, strings.Join(uiStatuses, ", "))
	}
	col := uiColumnByKey(q.sort)
	if col == nil {
		keys := make([]string, len(uiColumns))
		for i := range uiColumns {
			keys[i] = uiColumns[i].key
		}
		return q, fmt.Errorf("invalid sort %q: want one of %s", q.sort, strings.Join(keys, ", "))
	}
	switch q.order {
	case "":
		q.order = "asc"
		if col.desc {
			q.order = "desc"
		}
	case "asc", "desc":
	default:
		return q, fmt.Errorf("invalid order %q: want asc or desc", q.order)
	}
	if p := c.Query("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return q, fmt.Errorf("invalid page %q: want a number from 1", p)
		}
		q.page = n
	}
	return q, nil
}

func uiColumnByKey(key string) *uiColumn {
	for i := range uiColumns {
		if uiColumns[i].key == key {
			return &uiColumns[i]
		}
	}
	return nil
}

// uiRunsView is what runs.html renders; every string in it is data that
// html/template escapes.
type uiRunsView struct {
	Nav                         uiNav
	Ticker, Status, Sort, Order string
	Statuses                    []string
	Columns                     []uiColumnView
	Rows                        []uiRunRow
	Total, Page, Pages          int
	MaxCompare                  int
	First, Prev, Next, Last     string
}

type uiColumnView struct {
	Title, Href, Arrow string
	Sorted             bool
}

type uiRunRow struct {
	ID, Ticker, Kind, Status, Data              string
	Epochs, Units, Layers, Lookback, LR, Trials string
	RMSE, Naive, MASE, DMP, Promoted            string
	Started, Duration, Error                    string
	Beat, Lost                                  bool
}

// uiRuns answers GET /ui/runs: a page of the runs table.
func (s *Server) uiRuns(c *gin.Context) {
	q, err := parseUIQuery(c)
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	if s.storeDown(c) {
		return
	}
	all, err := s.runsIndex.rows(c.Request.Context(), s.store)
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	col := uiColumnByKey(q.sort)
	desc := q.order == "desc"
	rows := make([]*runs.Summary, 0, len(all))
	for i := range all {
		r := &all[i]
		if (q.ticker == "" || r.Ticker == q.ticker) && (q.status == "" || r.Status == q.status) {
			rows = append(rows, r)
		}
	}
	if q.sort != "started" || !desc { // the index is newest first already
		slices.SortStableFunc(rows, func(a, b *runs.Summary) int { return col.compare(a, b, desc) })
	}

	v := uiRunsView{Nav: s.nav("runs", q.ticker, ""), Ticker: q.ticker, Status: q.status, Sort: q.sort, Order: q.order, Statuses: uiStatuses, Total: len(rows), MaxCompare: MaxCompareRuns}
	v.Pages = max(1, (len(rows)+UIRunsPerPage-1)/UIRunsPerPage)
	v.Page = min(q.page, v.Pages)
	if v.Page > 1 {
		v.First, v.Prev = q.href(1, q.sort, q.order), q.href(v.Page-1, q.sort, q.order)
	}
	if v.Page < v.Pages {
		v.Next, v.Last = q.href(v.Page+1, q.sort, q.order), q.href(v.Pages, q.sort, q.order)
	}
	for i := range uiColumns {
		cc := &uiColumns[i]
		cv := uiColumnView{Title: cc.title}
		order := "asc"
		if cc.desc {
			order = "desc"
		}
		if cc.key == q.sort {
			cv.Sorted = true
			cv.Arrow = " ▲"
			order = "desc"
			if desc {
				cv.Arrow, order = " ▼", "asc"
			}
		}
		cv.Href = q.href(1, cc.key, order)
		v.Columns = append(v.Columns, cv)
	}
	lo := (v.Page - 1) * UIRunsPerPage
	for _, r := range rows[lo:min(lo+UIRunsPerPage, len(rows))] {
		v.Rows = append(v.Rows, uiRow(r))
	}

	render(c, uiRunsPage, v)
}

func uiRow(r *runs.Summary) uiRunRow {
	num := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	opt := func(f *float64, format string) string {
		if f == nil {
			return ""
		}
		return fmt.Sprintf(format, *f)
	}
	row := uiRunRow{ID: r.ID, Ticker: r.Ticker, Kind: r.Kind, Status: r.Status, Data: r.Data,
		Epochs: num(r.Epochs), Units: num(r.Units), Layers: num(r.Layers), Lookback: num(r.Lookback), Trials: num(r.Trials),
		RMSE: opt(r.TestRMSE, "%.4g"), Naive: opt(r.NaiveRMSE, "%.4g"), MASE: opt(r.MASE, "%.3f"), DMP: opt(r.DMP, "%.3g"),
		Error: r.Error}
	if r.LR != 0 {
		row.LR = strconv.FormatFloat(r.LR, 'g', 3, 64)
	}
	if r.TestRMSE != nil && r.NaiveRMSE != nil {
		row.Beat, row.Lost = *r.TestRMSE < *r.NaiveRMSE, *r.TestRMSE > *r.NaiveRMSE
	}
	switch {
	case r.Promoted:
		row.Promoted = "yes"
	case r.Version > 0 || r.Status == runs.StatusCompleted:
		row.Promoted = "no"
	}
	if !r.StartedAt.IsZero() {
		row.Started = r.StartedAt.UTC().Format("2006-01-02 15:04")
	}
	if r.EndedAt != nil {
		row.Duration = r.Duration().Round(time.Second).String()
	}
	return row
}
