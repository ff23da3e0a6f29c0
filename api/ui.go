package api

// The experiment tracking pages: server-rendered HTML (html/template, which
// escapes every value that comes from data) with an embedded stylesheet:
//
//	/                    overview: every ticker's champion against naive, its last run
//	/ui/runs             all runs, filtered, sorted, paginated (ui_runs.go, from the index of runs)
//	/ui/compare?runs=a,b runs side by side (ui_compare.go)
//	/ui/models/{ticker}  a ticker's versions, aliases and their history (ui_models.go)
//	/runs/{id}/report    a run's report (runs.go, package report)
//
// Every page shares the navigation of layout.html and links to the
// workflows in the Temporal Web UI when the API knows where it is
// (WithWebUI).

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed ui/*.html ui/*.css ui/*.js
var uiFiles embed.FS

func mustRead(fs embed.FS, name string) []byte {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// uiPage parses one page with the shared layout (layout.html: "nav").
// Execute it by the page's file name.
func uiPage(name string, funcs template.FuncMap) *template.Template {
	t := template.New(name).Funcs(uiFuncs)
	if funcs != nil {
		t = t.Funcs(funcs)
	}
	return template.Must(t.ParseFS(uiFiles, "ui/layout.html", "ui/"+name))
}

// uiFuncs are the helpers every page's template may call.
var uiFuncs = template.FuncMap{
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
	// letter names the i-th run of a comparison: A, B, C…
	"letter": func(i int) string { return string(rune('A' + i)) },
}

// WithWebUI makes the pages link workflows in the Temporal Web UI:
// workflowURL(id) is a workflow's page, workflowURL("") the list of
// workflows (config.Config.WorkflowURL does both).
func WithWebUI(workflowURL func(workflowID string) string) Option {
	return func(s *Server) { s.webUI = workflowURL }
}

// workflowLink is the Web UI page of a workflow ("" when the API does not
// know the Web UI); an empty id links the list of workflows.
func (s *Server) workflowLink(id string) string {
	f := s.webUI
	if f == nil && s.workflows != nil {
		f = s.workflows.webUI
	}
	if f == nil {
		return ""
	}
	return strings.TrimRight(f(id), "/")
}

// uiNav is what the shared navigation shows: the page it is on, the
// ticker in view (a link to its models page) and the Web UI link.
type uiNav struct {
	Page   string // overview, runs, compare, models, report
	Ticker string
	WebUI  string
}

func (s *Server) nav(page, ticker, workflowID string) uiNav {
	return uiNav{Page: page, Ticker: ticker, WebUI: s.workflowLink(workflowID)}
}

// contentSecurityPolicy allows the pages their own stylesheet, scripts,
// images (and data: images) and forms, and nothing else: no inline
// script, no framing. html/template escapes data; this is the second wall.
const contentSecurityPolicy = "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// htmlSecurityHeaders sets the security headers of the HTML pages.
func htmlSecurityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	c.Next()
}

// uiRoutes registers the pages.
func (s *Server) uiRoutes(r gin.IRouter) {
	r.GET("/", htmlSecurityHeaders, s.uiOverview)
	ui := r.Group("/ui", htmlSecurityHeaders)
	ui.GET("/runs", s.uiRuns)
	ui.GET("/compare", s.uiCompare)
	ui.GET("/models/:ticker", s.uiModels)
	ui.GET("/fleets/:id", s.uiFleet)
	for _, name := range []string{"style.css", "models.js"} {
		ui.GET("/"+name, uiAsset(name))
	}
}

// uiAsset serves an embedded stylesheet or script.
func uiAsset(name string) gin.HandlerFunc {
	b := mustRead(uiFiles, "ui/"+name)
	ctype := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ctype = "text/javascript; charset=utf-8"
	}
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.Data(http.StatusOK, ctype, b)
	}
}

// render writes a page, or a 500 naming what failed to render.
func render(c *gin.Context, t *template.Template, data any) {
	var page bytes.Buffer
	if err := t.Execute(&page, data); err != nil {
		jsonError(c, http.StatusInternalServerError, "render "+t.Name()+": "+err.Error())
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", page.Bytes())
}
