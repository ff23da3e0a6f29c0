package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"
	"github.com/sugarme/gotch"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
)

// The OpenAPI document (api/openapi.json, served at GET /openapi.json) is
// the API's contract. These tests hold the server to it: the routes Gin
// registers and the document's are the same, and real requests and their
// answers, for every route's success and its main errors, validate
// against it (kin-openapi).

// loadOpenAPI fetches GET /openapi.json from h and loads and validates it.
func loadOpenAPI(t *testing.T, h http.Handler) *openapi3.T {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /openapi.json: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	return doc
}

func bareHandler(t *testing.T) http.Handler {
	t.Helper()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newServerOn(t, store)
}

// ginPath writes a Gin route (/runs/:id) as an OpenAPI path (/runs/{id}).
var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

func ginPath(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

// Every route Gin registers is in the document, and every operation of the
// document is a route Gin registers, so that the two cannot drift apart.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(store, gotch.CPU)
	t.Cleanup(srv.Close)
	// Every optional route on.
	if err := srv.EnableWorkflows(api.WorkflowsConfig{Client: newFakeTemporal(), TaskQueue: wfQueue, Tokens: []string{apiToken}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.EnableGCSHook(api.HookConfig{Token: hookToken, Bucket: hookBucket, TaskQueue: hookQueue, Starter: &fakeStarter{}}); err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	doc := loadOpenAPI(t, h)
	engine, ok := h.(*gin.Engine)
	if !ok {
		t.Fatalf("Handler is a %T, not a *gin.Engine", h)
	}
	registered := map[string]bool{}
	for _, r := range engine.Routes() {
		key := r.Method + " " + ginPath(r.Path)
		registered[key] = true
		item := doc.Paths.Value(ginPath(r.Path))
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s (%s) is not in the OpenAPI document", key, r.Path)
		}
	}
	documented := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented++
			if !registered[method+" "+path] {
				t.Errorf("the OpenAPI document has %s %s, which the server does not route", method, path)
			}
			if op.OperationID == "" || len(op.Responses.Map()) == 0 {
				t.Errorf("%s %s: no operationId or no responses", method, path)
			}
			for status, resp := range op.Responses.Map() {
				// Errors are JSON, but for the pages' "nothing here yet", an HTML page a person reads.
				htmlPage := strings.HasPrefix(path, "/ui/") && status == "404" && resp.Value != nil && resp.Value.Content.Get("text/html") != nil
				if status >= "400" && resp.Value != nil && resp.Value.Content.Get("application/json") == nil && path != "/metrics" && !htmlPage {
					t.Errorf("%s %s: %s is not JSON", method, path, status)
				}
			}
		}
	}
	if documented != len(registered) {
		t.Errorf("%d documented operations, %d routes", documented, len(registered))
	}
}

// jsonKeys are the JSON names of v's fields, marshalled.
func jsonKeys(t *testing.T, v any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustJSON(t, v), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func schemaProps(t *testing.T, doc *openapi3.T, name string) openapi3.Schemas {
	t.Helper()
	s := doc.Components.Schemas[name]
	if s == nil || s.Value == nil {
		t.Fatalf("no schema %s", name)
	}
	return s.Value.Properties
}

// The request schemas of /train and /retrain name the fields the server
// reads (the starter's flags), with the starter's defaults; the form
// schemas are the same fields and the file.
func TestOpenAPIRequestFieldsAreTheServers(t *testing.T) {
	doc := loadOpenAPI(t, bareHandler(t))
	for _, tc := range []struct {
		schema, form string
		defaults     map[string]any
		extra        []string // fields beside the request's, without a default
	}{
		{"TrainRequest", "TrainForm", jsonKeys(t, pipeline.DefaultTrainRequest()), []string{"csv_key"}},
		{"RetrainRequest", "RetrainForm", jsonKeys(t, pipeline.DefaultRetrainRequest()), []string{"store_csv", "csv_key"}},
	} {
		props := schemaProps(t, doc, tc.schema)
		want := map[string]bool{}
		for k := range tc.defaults {
			want[k] = true
		}
		for _, k := range tc.extra {
			want[k] = true
		}
		for name, p := range props {
			if !want[name] {
				t.Errorf("%s.%s: the server has no such field", tc.schema, name)
				continue
			}
			def, ok := tc.defaults[name]
			if !ok || name == "ticker" || (name == "store_csv" && slices.Contains(tc.extra, name)) {
				continue
			}
			if p.Value.Default == nil || fmt.Sprint(p.Value.Default) != fmt.Sprint(def) {
				t.Errorf("%s.%s: default %v in the document, %v in the server", tc.schema, name, p.Value.Default, def)
			}
		}
		for k := range want {
			if props[k] == nil {
				t.Errorf("%s: the server's field %s is not documented", tc.schema, k)
			}
		}
		form := schemaProps(t, doc, tc.form)
		if form["file"] == nil || len(form) != len(props)+1 {
			t.Errorf("%s has %d fields, want %s's %d and file", tc.form, len(form), tc.schema, len(props))
		}
		for name := range props {
			if form[name] == nil {
				t.Errorf("%s has no field %s", tc.form, name)
			}
		}
	}
	for schema, want := range map[string]string{"PromoteRequest": launch.DefaultPromoteReason, "RollbackRequest": launch.DefaultRollbackReason} {
		if r := schemaProps(t, doc, schema)["reason"]; r == nil || r.Value.Default != want {
			t.Errorf("%s.reason: default %v, want the server's %q", schema, r, want)
		}
	}
}

// oasCase is one real request and the status it must get.
type oasCase struct {
	name    string
	srv     *httptest.Server
	method  string
	path    string // with the query
	ctype   string
	auth    string
	header  http.Header
	body    []byte
	status  int
	invalid bool   // the request breaks the document on purpose (an error case)
	setup   func() // before the request
	undo    func() // after it
}

// oasAuthenticate accepts a request that carries the credentials a
// security scheme names (the server judges whether they are right).
func oasAuthenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	req := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "bearerAuth":
		scheme, token, ok := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return errors.New("no bearer token")
		}
	case "hookToken":
		if req.URL.Query().Get("token") == "" {
			return errors.New("no ?token=")
		}
	default:
		return fmt.Errorf("unknown security scheme %s", in.SecuritySchemeName)
	}
	return nil
}

func init() {
	// Run reports are HTML: their body is text.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/css", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.PlainBodyDecoder)
}

// oasValidator checks requests and answers against the document.
type oasValidator struct {
	doc    *openapi3.T
	router routers.Router
	// covered records each operation's statuses seen: "POST /predict" → 200, 400, ...
	covered map[string]map[int]bool
}

func newOASValidator(t *testing.T, doc *openapi3.T) *oasValidator {
	t.Helper()
	doc.Servers = nil // any host: the test servers'
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &oasValidator{doc: doc, router: router, covered: map[string]map[int]bool{}}
}

// run sends the case's request to its server and validates the request
// (valid unless the case says otherwise) and the answer (always).
func (v *oasValidator) run(t *testing.T, c oasCase) {
	t.Helper()
	if c.setup != nil {
		c.setup()
	}
	if c.undo != nil {
		defer c.undo()
	}
	newReq := func() *http.Request {
		req, err := http.NewRequest(c.method, c.srv.URL+c.path, bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		for k, vs := range c.header {
			req.Header[k] = vs
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		return req
	}
	resp, err := c.srv.Client().Do(newReq())
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", c.method, c.path, err)
	}
	if resp.StatusCode != c.status {
		t.Fatalf("%s %s: status %d, want %d; body %.300s", c.method, c.path, resp.StatusCode, c.status, body)
	}

	req := newReq()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: no route in the document: %v", c.method, c.path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: oasAuthenticate, SkipSettingDefaults: true, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case err != nil && !c.invalid:
		t.Errorf("%s %s: the request does not follow the document: %v", c.method, c.path, err)
	case err == nil && c.invalid:
		t.Errorf("%s %s: the request follows the document, but the case says it breaks it", c.method, c.path)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: opts}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: the %d answer does not follow the document: %v\nbody: %.500s", c.method, c.path, resp.StatusCode, err, body)
	}
	key := c.method + " " + route.Path
	if v.covered[key] == nil {
		v.covered[key] = map[int]bool{}
	}
	v.covered[key][resp.StatusCode] = true
}

// oasFixture is a store with models, runs and files, served with every
// route on, and the servers of the error cases.
type oasFixture struct {
	main, outage, bare, gateway, corrupt *httptest.Server
	tc                                   *fakeTemporal
	starter                              *fakeStarter
}

const oasRun = "train-NFLX-0123abcd-89abcdef"

// pngBytes is the start of a PNG file.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

// badGatewayTemporal is a Temporal that answers every describe with an
// internal error (502).
type badGatewayTemporal struct{ *fakeTemporal }

var errTemporalInternal = serviceerror.NewInternal("history shard unavailable")

func (badGatewayTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, errTemporalInternal
}

func (badGatewayTemporal) ExecuteWorkflow(context.Context, client.StartWorkflowOptions, interface{}, ...interface{}) (client.WorkflowRun, error) {
	return nil, errTemporalInternal
}

func (badGatewayTemporal) SignalWithStartWorkflow(context.Context, string, string, interface{}, client.StartWorkflowOptions, interface{}, ...interface{}) (client.WorkflowRun, error) {
	return nil, errTemporalInternal
}

func newOASFixture(t *testing.T) *oasFixture {
	t.Helper()
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	registerBanded(t, store, "NFLX", "r1", 1, bandedSummary(10.2, 10.86, metrics.ScaleLastOpen)) // champion v1: a real model, with intervals
	promote(t, store, "NFLX", 1)
	registerBanded(t, store, "AAPL", "a1", 3, bandedSummary(11.2, 10.86, metrics.ScaleLastOpen)) // no champion: the naive forecast, with naive's intervals
	registerVersions(t, store, "MSFT", 3)                                                        // champion v3, for promote and rollback
	registerVersions(t, store, "IBM", 1)                                                         // no champion before the first: 409
	if err := blob.PutBytes(ctx, store, pricesKey, []byte(priceRows)); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	done := start.Add(3 * time.Minute)
	rec := runs.Record{ID: oasRun, Workflow: pipeline.TrainingWorkflow, Ticker: "NFLX", Status: "completed", Stage: "register",
		StartedAt: start, FinishedAt: &done, Code: "abc123",
		Steps:     []runs.Step{{Name: "fetch", StartedAt: start, WallMS: 1200, PeakRSSMB: 80.5, Attempts: 1}},
		Artifacts: map[string]string{"report": store.URI(runs.ReportKey(oasRun))}}
	if err := runs.Write(ctx, store, rec); err != nil {
		t.Fatal(err)
	}
	fleet := pipeline.FleetResult{FleetID: "fleet-done", Kind: pipeline.FleetTraining, Started: start, Finished: done, Runs: 1,
		Outcomes: []pipeline.FleetOutcome{{Ticker: "NFLX", Status: pipeline.FleetCompleted, ModelVersion: 1, RMSE: 10.9, NaiveRMSE: 10.86, TestDays: 989}}}
	fleet.Totals = pipeline.FleetTotalsOf(fleet.Outcomes)
	if err := blob.PutJSON(ctx, store, pipeline.FleetReportKey(fleet.FleetID), fleet); err != nil {
		t.Fatal(err)
	}
	bt := pipeline.BacktestResult{BacktestID: "bt-done", Ticker: "NFLX", Summary: []backtest.ModelSummary{{Model: pipeline.ModelLSTM}, {Model: "naive"}}}
	if err := blob.PutJSON(ctx, store, pipeline.BacktestSummaryKey(bt.BacktestID), bt); err != nil {
		t.Fatal(err)
	}
	rec.ID, rec.Status, rec.Error = oasRun+"-2", runs.StatusFailed, "no such file"
	if err := runs.Write(ctx, store, rec); err != nil {
		t.Fatal(err)
	}
	for key, b := range map[string][]byte{
		runs.ReportKey(oasRun):                             []byte("<!doctype html><title>NFLX</title><p>report</p>"),
		runs.PlotsDir(oasRun) + "prices.png":               pngBytes,
		pipeline.BacktestReportKey("bt-done"):              []byte("<!doctype html><title>NFLX backtest</title><img src=\"plots/rmse.png\">"),
		pipeline.BacktestDir("bt-done") + "plots/rmse.png": pngBytes,
	} {
		if err := blob.PutBytes(ctx, store, key, b); err != nil {
			t.Fatal(err)
		}
	}

	f := &oasFixture{tc: newFakeTemporal(), starter: &fakeStarter{}}
	srv := api.New(store, gotch.CPU)
	t.Cleanup(srv.Close)
	if err := srv.EnableWorkflows(api.WorkflowsConfig{Client: f.tc, TaskQueue: wfQueue, Namespace: "default", Tokens: []string{apiToken},
		WebUI: func(id string) string { return uiBase + id }, Timeout: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := srv.EnableGCSHook(api.HookConfig{Token: hookToken, Bucket: hookBucket, TaskQueue: hookQueue, Starter: f.starter}); err != nil {
		t.Fatal(err)
	}
	f.main = httptest.NewServer(srv.Handler())
	t.Cleanup(f.main.Close)

	// The store down (refusing): the store-backed routes' 503s.
	down, o := newOutageServer(t)
	if err := down.EnableWorkflows(api.WorkflowsConfig{Client: newFakeTemporal(), TaskQueue: wfQueue, Tokens: []string{apiToken}}); err != nil {
		t.Fatal(err)
	}
	o.Down(blobtest.Refuse)
	f.outage = httptest.NewServer(down.Handler())
	t.Cleanup(f.outage.Close)

	// Nothing enabled: the mutating routes off (403), no hook, no workflows (404).
	bare := api.New(store, gotch.CPU)
	t.Cleanup(bare.Close)
	f.bare = httptest.NewServer(bare.Handler())
	t.Cleanup(f.bare.Close)

	// Temporal answering errors: 502.
	gw := api.New(store, gotch.CPU)
	t.Cleanup(gw.Close)
	if err := gw.EnableWorkflows(api.WorkflowsConfig{Client: badGatewayTemporal{newFakeTemporal()}, TaskQueue: wfQueue, Tokens: []string{apiToken}}); err != nil {
		t.Fatal(err)
	}
	f.gateway = httptest.NewServer(gw.Handler())
	t.Cleanup(f.gateway.Close)

	// A store holding a corrupt manifest and a corrupt run record: 500s.
	corrupt, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for key, b := range map[string][]byte{"registry/BAD.json": []byte(`{"ticker":`), runs.Key("bad", "run.json"): []byte(`{"id":`)} {
		if err := blob.PutBytes(ctx, corrupt, key, b); err != nil {
			t.Fatal(err)
		}
	}
	cs := api.New(corrupt, gotch.CPU)
	t.Cleanup(cs.Close)
	if err := cs.EnableWorkflows(api.WorkflowsConfig{Client: newFakeTemporal(), TaskQueue: wfQueue, Tokens: []string{apiToken}}); err != nil {
		t.Fatal(err)
	}
	f.corrupt = httptest.NewServer(cs.Handler())
	t.Cleanup(f.corrupt.Close)
	return f
}

// oasForm is a multipart body of fields in order, a part named file being
// the file, and its Content-Type.
func oasForm(t *testing.T, fields ...[2]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		var w io.Writer
		var err error
		if f[0] == "file" {
			w, err = mw.CreateFormFile("file", "NFLX.csv")
		} else {
			w, err = mw.CreateFormField(f[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// setTrainStatus sets the status of every training workflow the fake has.
func (f *oasFixture) setTrainStatus(st enumspb.WorkflowExecutionStatus) {
	f.tc.mu.Lock()
	defer f.tc.mu.Unlock()
	for id, w := range f.tc.workflows {
		if strings.HasPrefix(id, "train-") {
			w.status = st
		}
	}
}

func (f *oasFixture) temporalDown(down bool) func() {
	return func() {
		f.tc.mu.Lock()
		defer f.tc.mu.Unlock()
		f.tc.down = down
	}
}

// Every route answers as the OpenAPI document says: real requests against
// real servers, for each route's success and its main errors, are
// validated with the answers (status, headers, body) against the document.
func TestOpenAPIRequestsAndAnswersFollowTheDocument(t *testing.T) {
	f := newOASFixture(t)
	doc := loadOpenAPI(t, f.main.Config.Handler)
	v := newOASValidator(t, doc)

	const j = "application/json"
	bearer, wrong := bearerAuth, "Bearer not-a-token"
	nflx := opens(60)
	csv := priceCSV(nflx)
	single := mustJSON(t, map[string]any{"ticker": "NFLX", "open": nflx})
	upload, uploadCT := oasForm(t, [2]string{"ticker", "NFLX"}, [2]string{"file", csv})
	trainForm, trainFormCT := oasForm(t, [2]string{"ticker", "NFLX"}, [2]string{"epochs", "1"}, [2]string{"force_promote", "true"}, [2]string{"file", priceRows})
	retrainForm, retrainFormCT := oasForm(t, [2]string{"ticker", "NFLX"}, [2]string{"mode", "auto"}, [2]string{"file", priceRows})
	envelope := func(event string) []byte {
		return mustJSON(t, pushEnvelope(hookBucket, "inbox/NFLX/prices.csv", event, generation))
	}
	bigEnvelope := pushEnvelope(hookBucket, "inbox/NFLX/prices.csv", "OBJECT_FINALIZE", generation)
	bigEnvelope["padding"] = strings.Repeat("x", 1<<20)
	hook := "/hooks/gcs?token=" + url.QueryEscape(hookToken)
	trainJSON := []byte(`{"ticker":"NFLX","store_csv":"` + pricesKey + `","epochs":1}`)

	cases := []oasCase{
		// Health.
		{name: "healthz", srv: f.main, method: "GET", path: "/healthz", status: 200},
		{name: "readyz", srv: f.main, method: "GET", path: "/readyz", status: 200},
		{name: "readyz store down", srv: f.outage, method: "GET", path: "/readyz", status: 503},
		{name: "metrics text", srv: f.main, method: "GET", path: "/metrics", status: 200},
		{name: "metrics protobuf", srv: f.main, method: "GET", path: "/metrics", status: 200,
			header: http.Header{"Accept": {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"}}},
		{name: "openapi", srv: f.main, method: "GET", path: "/openapi.json", status: 200},

		// POST /predict: each body form, each selection, the errors.
		{name: "predict one window", srv: f.main, method: "POST", path: "/predict", ctype: j, body: single, status: 200},
		{name: "predict batch of lists", srv: f.main, method: "POST", path: "/predict", ctype: j,
			body: mustJSON(t, map[string]any{"ticker": "nflx", "windows": [][]float64{nflx, nflx[5:]}}), status: 200},
		{name: "predict batch of objects", srv: f.main, method: "POST", path: "/predict", ctype: j,
			body: mustJSON(t, map[string]any{"ticker": "NFLX", "windows": []any{map[string]any{"open": nflx}, nflx}}), status: 200},
		{name: "predict naive", srv: f.main, method: "POST", path: "/predict", ctype: j,
			body: mustJSON(t, map[string]any{"ticker": "AAPL", "open": nflx}), status: 200},
		{name: "predict version", srv: f.main, method: "POST", path: "/predict?version=1", ctype: j, body: single, status: 200},
		{name: "predict alias", srv: f.main, method: "POST", path: "/predict?alias=champion", ctype: j, body: single, status: 200},
		{name: "predict multipart", srv: f.main, method: "POST", path: "/predict", ctype: uploadCT, body: upload, status: 200},
		{name: "predict csv", srv: f.main, method: "POST", path: "/predict?ticker=NFLX", ctype: "text/csv", body: []byte(csv), status: 200},
		{name: "predict csv alias", srv: f.main, method: "POST", path: "/predict?ticker=AAPL&alias=champion", ctype: "text/csv", body: []byte(csv), status: 404},
		{name: "predict too few values", srv: f.main, method: "POST", path: "/predict", ctype: j,
			body: mustJSON(t, map[string]any{"ticker": "NFLX", "open": nflx[:3]}), status: 400},
		{name: "predict malformed JSON", srv: f.main, method: "POST", path: "/predict", ctype: j, body: []byte(`{"ticker":"NFLX","open":[1,`), status: 400, invalid: true},
		{name: "predict unknown field", srv: f.main, method: "POST", path: "/predict", ctype: j,
			body: mustJSON(t, map[string]any{"ticker": "NFLX", "open": nflx, "opens": nflx}), status: 400, invalid: true},
		{name: "predict version and alias", srv: f.main, method: "POST", path: "/predict?version=1&alias=champion", ctype: j, body: single, status: 400},
		{name: "predict refused file", srv: f.main, method: "POST", path: "/predict?ticker=NFLX", ctype: "text/csv",
			body: []byte("Date,Open\n2021-03-01,12\n2021-03-02,twelve\n"), status: 400},
		{name: "predict unknown ticker", srv: f.main, method: "POST", path: "/predict", ctype: j,
			body: mustJSON(t, map[string]any{"ticker": "ZZZZ", "open": nflx}), status: 404},
		{name: "predict unknown version", srv: f.main, method: "POST", path: "/predict?version=9", ctype: j, body: single, status: 404},
		{name: "predict too large", srv: f.main, method: "POST", path: "/predict", ctype: j,
			body: []byte(`{"ticker":"NFLX","open":[` + strings.Repeat("12.5,", 1<<20/5) + `12.5]}`), status: 413},
		{name: "predict XML", srv: f.main, method: "POST", path: "/predict", ctype: "application/xml", body: []byte("<open/>"), status: 415, invalid: true},
		{name: "predict store down", srv: f.outage, method: "POST", path: "/predict", ctype: j, body: single, status: 503},

		// The registry.
		{name: "models", srv: f.main, method: "GET", path: "/models", status: 200},
		{name: "models store down", srv: f.outage, method: "GET", path: "/models", status: 503},
		{name: "model", srv: f.main, method: "GET", path: "/models/nflx", status: 200},
		{name: "model with history", srv: f.main, method: "GET", path: "/models/MSFT", status: 200},
		{name: "model unknown", srv: f.main, method: "GET", path: "/models/ZZZZ", status: 404},
		{name: "model bad ticker", srv: f.main, method: "GET", path: "/models/N$X", status: 400, invalid: true},
		{name: "model store down", srv: f.outage, method: "GET", path: "/models/NFLX", status: 503},
		{name: "promote", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: j, auth: bearer,
			body: []byte(`{"version":1,"reason":"better on 2022"}`), status: 200},
		{name: "rollback without a body", srv: f.main, method: "POST", path: "/models/MSFT/rollback", auth: bearer, status: 200},
		{name: "promote again", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: j, auth: bearer,
			body: []byte(`{"version":2}`), status: 200},
		{name: "rollback JSON", srv: f.main, method: "POST", path: "/models/MSFT/rollback", ctype: j, auth: bearer,
			body: []byte(`{"reason":"v2 drifts"}`), status: 200},
		{name: "promote no version", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: j, auth: bearer, body: []byte(`{}`), status: 400, invalid: true},
		{name: "promote version as text", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: j, auth: bearer, body: []byte(`{"version":"2"}`), status: 400, invalid: true},
		{name: "promote no token", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: j, body: []byte(`{"version":1}`), status: 401, invalid: true},
		{name: "promote wrong token", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: j, auth: wrong, body: []byte(`{"version":1}`), status: 403},
		{name: "promote tokens off", srv: f.bare, method: "POST", path: "/models/MSFT/promote", ctype: j, auth: bearer, body: []byte(`{"version":1}`), status: 403},
		{name: "promote no such version", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: j, auth: bearer, body: []byte(`{"version":9}`), status: 404},
		{name: "promote unknown ticker", srv: f.main, method: "POST", path: "/models/ZZZZ/promote", ctype: j, auth: bearer, body: []byte(`{"version":1}`), status: 404},
		{name: "promote too large", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: j, auth: bearer,
			body: []byte(`{"version":1,"reason":"` + strings.Repeat("r", 1<<20) + `"}`), status: 413},
		{name: "promote CSV", srv: f.main, method: "POST", path: "/models/MSFT/promote", ctype: "text/csv", auth: bearer, body: []byte("version\n1\n"), status: 415, invalid: true},
		{name: "promote store down", srv: f.outage, method: "POST", path: "/models/NFLX/promote", ctype: j, auth: bearer, body: []byte(`{"version":1}`), status: 503},
		{name: "rollback no champion before", srv: f.main, method: "POST", path: "/models/IBM/rollback", auth: bearer, status: 409},
		{name: "rollback unknown ticker", srv: f.main, method: "POST", path: "/models/ZZZZ/rollback", auth: bearer, status: 404},
		{name: "rollback reason as number", srv: f.main, method: "POST", path: "/models/MSFT/rollback", ctype: j, auth: bearer, body: []byte(`{"reason":1}`), status: 400, invalid: true},
		{name: "rollback store down", srv: f.outage, method: "POST", path: "/models/NFLX/rollback", auth: bearer, status: 503},
		{name: "model with moves by hand", srv: f.main, method: "GET", path: "/models/MSFT", status: 200},

		// Runs.
		{name: "runs", srv: f.main, method: "GET", path: "/runs", status: 200},
		{name: "runs of a ticker", srv: f.main, method: "GET", path: "/runs?ticker=nflx", status: 200},
		{name: "runs bad ticker", srv: f.main, method: "GET", path: "/runs?ticker=N$X", status: 400, invalid: true},
		{name: "runs store down", srv: f.outage, method: "GET", path: "/runs", status: 503},
		{name: "run", srv: f.main, method: "GET", path: "/runs/" + oasRun, status: 200},
		{name: "run unknown", srv: f.main, method: "GET", path: "/runs/train-NFLX-none", status: 404},
		{name: "run store down", srv: f.outage, method: "GET", path: "/runs/" + oasRun, status: 503},
		{name: "report", srv: f.main, method: "GET", path: "/runs/" + oasRun + "/report", status: 200},
		{name: "report unknown", srv: f.main, method: "GET", path: "/runs/train-NFLX-none/report", status: 404},
		{name: "report bad id", srv: f.main, method: "GET", path: "/runs/a%5Cb/report", status: 400},
		{name: "report store down", srv: f.outage, method: "GET", path: "/runs/" + oasRun + "/report", status: 503},
		{name: "plot", srv: f.main, method: "GET", path: "/runs/" + oasRun + "/plots/prices.png", status: 200},
		{name: "plot unknown", srv: f.main, method: "GET", path: "/runs/" + oasRun + "/plots/none.png", status: 404},
		{name: "plot not png", srv: f.main, method: "GET", path: "/runs/" + oasRun + "/plots/run.json", status: 400, invalid: true},
		{name: "plot store down", srv: f.outage, method: "GET", path: "/runs/" + oasRun + "/plots/prices.png", status: 503},
		{name: "ui runs", srv: f.main, method: "GET", path: "/ui/runs", status: 200},
		{name: "ui runs filtered and sorted", srv: f.main, method: "GET", path: "/ui/runs?ticker=nflx&status=completed&sort=rmse&order=desc&page=2", status: 200},
		{name: "ui runs bad status", srv: f.main, method: "GET", path: "/ui/runs?status=done", status: 400, invalid: true},
		{name: "ui runs store down", srv: f.outage, method: "GET", path: "/ui/runs", status: 503},
		{name: "ui style", srv: f.main, method: "GET", path: "/ui/style.css", status: 200},
		{name: "ui models script", srv: f.main, method: "GET", path: "/ui/models.js", status: 200},
		{name: "ui models", srv: f.main, method: "GET", path: "/ui/models/MSFT", status: 200},
		{name: "ui models bad ticker", srv: f.main, method: "GET", path: "/ui/models/N$X", status: 400, invalid: true},
		{name: "ui models no model", srv: f.main, method: "GET", path: "/ui/models/TSLA", status: 404},
		{name: "ui models store down", srv: f.outage, method: "GET", path: "/ui/models/MSFT", status: 503},
		{name: "ui overview", srv: f.main, method: "GET", path: "/", status: 200},
		{name: "ui overview store down", srv: f.outage, method: "GET", path: "/", status: 503},
		{name: "ui compare", srv: f.main, method: "GET", path: "/ui/compare?runs=" + oasRun + "," + oasRun + "-2", status: 200},
		{name: "ui compare repeated", srv: f.main, method: "GET", path: "/ui/compare?runs=" + oasRun + "&runs=" + oasRun + "-2", status: 200},
		{name: "ui compare one run", srv: f.main, method: "GET", path: "/ui/compare?runs=" + oasRun, status: 400},
		{name: "ui compare unknown run", srv: f.main, method: "GET", path: "/ui/compare?runs=" + oasRun + ",nope", status: 404},
		{name: "ui compare store down", srv: f.outage, method: "GET", path: "/ui/compare?runs=a,b", status: 503},
		{name: "fleet", srv: f.main, method: "POST", path: "/fleet", ctype: j, auth: bearer,
			body: []byte(`{"id":"fleet-oas","items":[{"ticker":"NFLX","csv_key":"` + pricesKey + `"}],"train":{"epochs":1}}`), status: 202},
		{name: "fleet again", srv: f.main, method: "POST", path: "/fleet", ctype: j, auth: bearer,
			body: []byte(`{"id":"fleet-oas","items":[{"ticker":"NFLX","csv_key":"` + pricesKey + `"}]}`), status: 409},
		{name: "fleet missing file", srv: f.main, method: "POST", path: "/fleet", ctype: j, auth: bearer,
			body: []byte(`{"items":[{"ticker":"NFLX","csv_key":"uploads/none.csv"}]}`), status: 400},
		{name: "fleet no token", srv: f.main, method: "POST", path: "/fleet", ctype: j, body: []byte(`{"prefix":"p/"}`), status: 401, invalid: true},
		{name: "fleet wrong token", srv: f.main, method: "POST", path: "/fleet", ctype: j, auth: wrong, body: []byte(`{"prefix":"p/"}`), status: 403},
		{name: "fleet CSV", srv: f.main, method: "POST", path: "/fleet", ctype: "text/csv", auth: bearer, body: []byte("a\n"), status: 415, invalid: true},
		{name: "fleet store down", srv: f.outage, method: "POST", path: "/fleet", ctype: j, auth: bearer, body: []byte(`{"prefix":"p/"}`), status: 503},
		{name: "fleet report", srv: f.main, method: "GET", path: "/fleets/fleet-done", status: 200},
		{name: "fleet unknown", srv: f.main, method: "GET", path: "/fleets/fleet-none", status: 404},
		{name: "fleet bad id", srv: f.main, method: "GET", path: "/fleets/a%5Cb", status: 400},
		{name: "ui fleet", srv: f.main, method: "GET", path: "/ui/fleets/fleet-done", status: 200},
		{name: "backtest", srv: f.main, method: "POST", path: "/backtest", ctype: j, auth: bearer,
			body: []byte(`{"id":"bt-oas","ticker":"NFLX","csv_key":"` + pricesKey + `","spec":{"folds":3},"model":{"epochs":1},"levels":[0.8]}`), status: 202},
		{name: "backtest again", srv: f.main, method: "POST", path: "/backtest", ctype: j, auth: bearer,
			body: []byte(`{"id":"bt-oas","ticker":"NFLX","csv_key":"` + pricesKey + `"}`), status: 409},
		{name: "backtest of the champion's data", srv: f.main, method: "POST", path: "/backtest", ctype: j, auth: bearer, body: []byte(`{"ticker":"MSFT"}`), status: 202},
		{name: "backtest no data", srv: f.main, method: "POST", path: "/backtest", ctype: j, auth: bearer, body: []byte(`{"ticker":"TSLA"}`), status: 400},
		{name: "backtest missing file", srv: f.main, method: "POST", path: "/backtest", ctype: j, auth: bearer,
			body: []byte(`{"ticker":"NFLX","csv_key":"uploads/none.csv"}`), status: 400},
		{name: "backtest bad level", srv: f.main, method: "POST", path: "/backtest", ctype: j, auth: bearer,
			body: []byte(`{"ticker":"NFLX","levels":[1.5]}`), status: 400, invalid: true},
		{name: "backtest no token", srv: f.main, method: "POST", path: "/backtest", ctype: j, body: []byte(`{"ticker":"NFLX"}`), status: 401, invalid: true},
		{name: "backtest store down", srv: f.outage, method: "POST", path: "/backtest", ctype: j, auth: bearer, body: []byte(`{"ticker":"NFLX"}`), status: 503},
		{name: "backtest summary", srv: f.main, method: "GET", path: "/backtests/bt-done", status: 200},
		{name: "backtest unknown", srv: f.main, method: "GET", path: "/backtests/bt-none", status: 404},
		{name: "backtest bad id", srv: f.main, method: "GET", path: "/backtests/a%5Cb", status: 400},
		{name: "backtest report", srv: f.main, method: "GET", path: "/backtests/bt-done/report", status: 200},
		{name: "backtest report unknown", srv: f.main, method: "GET", path: "/backtests/bt-none/report", status: 404},
		{name: "backtest plot", srv: f.main, method: "GET", path: "/backtests/bt-done/plots/rmse.png", status: 200},
		{name: "backtest plot not png", srv: f.main, method: "GET", path: "/backtests/bt-done/plots/x.txt", status: 400, invalid: true},
		{name: "ui fleet unknown", srv: f.main, method: "GET", path: "/ui/fleets/fleet-none", status: 404},

		// The GCS hook.
		{name: "hook starts a scan", srv: f.main, method: "POST", path: hook, ctype: j, body: envelope("OBJECT_FINALIZE"), status: 202},
		{name: "hook ignores", srv: f.main, method: "POST", path: hook, ctype: j, body: envelope("OBJECT_DELETE"), status: 200},
		{name: "hook malformed", srv: f.main, method: "POST", path: hook, ctype: j, body: []byte(`{"message":`), status: 400, invalid: true},
		{name: "hook no token", srv: f.main, method: "POST", path: "/hooks/gcs", ctype: j, body: envelope("OBJECT_FINALIZE"), status: 401, invalid: true},
		{name: "hook wrong token", srv: f.main, method: "POST", path: "/hooks/gcs?token=nope", ctype: j, body: envelope("OBJECT_FINALIZE"), status: 403},
		{name: "hook off", srv: f.bare, method: "POST", path: hook, ctype: j, body: envelope("OBJECT_FINALIZE"), status: 404},
		{name: "hook too large", srv: f.main, method: "POST", path: hook, ctype: j, body: mustJSON(t, bigEnvelope), status: 413},
		{name: "hook Temporal down", srv: f.main, method: "POST", path: hook, ctype: j, body: envelope("OBJECT_FINALIZE"), status: 503,
			setup: func() { f.starter.mu.Lock(); f.starter.err = errFrontendDown; f.starter.mu.Unlock() },
			undo:  func() { f.starter.mu.Lock(); f.starter.err = nil; f.starter.mu.Unlock() }},

		// Workflows.
		{name: "train JSON", srv: f.main, method: "POST", path: "/train", ctype: j, auth: bearer, body: trainJSON, status: 202},
		{name: "train attached", srv: f.main, method: "POST", path: "/train", ctype: j, auth: bearer, body: trainJSON, status: 202},
		{name: "train already completed", srv: f.main, method: "POST", path: "/train", ctype: j, auth: bearer, body: trainJSON, status: 200,
			setup: func() { f.setTrainStatus(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED) }},
		{name: "train multipart", srv: f.main, method: "POST", path: "/train", ctype: trainFormCT, auth: bearer, body: trainForm, status: 202},
		{name: "train no data", srv: f.main, method: "POST", path: "/train", ctype: j, auth: bearer, body: []byte(`{"ticker":"NFLX"}`), status: 400},
		{name: "train unknown field", srv: f.main, method: "POST", path: "/train", ctype: j, auth: bearer, body: []byte(`{"ticker":"NFLX","epoch":3}`), status: 400, invalid: true},
		{name: "train no token", srv: f.main, method: "POST", path: "/train", ctype: j, body: trainJSON, status: 401, invalid: true},
		{name: "train tokens off", srv: f.bare, method: "POST", path: "/train", ctype: j, auth: bearer, body: trainJSON, status: 403},
		{name: "train too large", srv: f.main, method: "POST", path: "/train", ctype: j, auth: bearer,
			body: []byte(`{"ticker":"NFLX","columns":"` + strings.Repeat("c", 1<<20) + `"}`), status: 413},
		{name: "train CSV", srv: f.main, method: "POST", path: "/train", ctype: "text/csv", auth: bearer, body: []byte(priceRows), status: 415, invalid: true},
		{name: "train Temporal down", srv: f.main, method: "POST", path: "/train", ctype: trainFormCT, auth: bearer, body: trainForm, status: 503,
			setup: func() { f.setTrainStatus(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED); f.temporalDown(true)() }, undo: f.temporalDown(false)},
		{name: "retrain JSON", srv: f.main, method: "POST", path: "/retrain", ctype: j, auth: bearer,
			body: []byte(`{"ticker":"NFLX","store_csv":"` + pricesKey + `","force_promote":true}`), status: 202},
		{name: "retrain multipart", srv: f.main, method: "POST", path: "/retrain", ctype: retrainFormCT, auth: bearer, body: retrainForm, status: 202},
		{name: "retrain no file", srv: f.main, method: "POST", path: "/retrain", ctype: j, auth: bearer, body: []byte(`{"ticker":"NFLX"}`), status: 400},
		{name: "retrain wrong token", srv: f.main, method: "POST", path: "/retrain", ctype: j, auth: wrong, body: []byte(`{"ticker":"NFLX"}`), status: 403},
		{name: "retrain Temporal down", srv: f.main, method: "POST", path: "/retrain", ctype: j, auth: bearer,
			body: []byte(`{"ticker":"NFLX","store_csv":"` + pricesKey + `"}`), status: 503, setup: f.temporalDown(true), undo: f.temporalDown(false)},
		{name: "workflow running", srv: f.main, method: "GET", path: "/workflows/train-NFLX-a", status: 200,
			setup: func() {
				f.tc.set(&fakeWorkflow{id: "train-NFLX-a", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
					progress: pipeline.Progress{Stage: "train", Epoch: 2, Epochs: 5, TrainLoss: 0.5, ValLoss: 0.6}})
			}},
		{name: "workflow completed", srv: f.main, method: "GET", path: "/workflows/train-NFLX-b", status: 200,
			setup: func() {
				f.tc.set(&fakeWorkflow{id: "train-NFLX-b", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
					result: pipeline.TrainingResult{Ticker: "NFLX", ModelVersion: 3}})
			}},
		{name: "workflow failed", srv: f.main, method: "GET", path: "/workflows/train-NFLX-c", status: 200,
			setup: func() {
				f.tc.set(&fakeWorkflow{id: "train-NFLX-c", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, failure: "InvalidData: line 3"})
			}},
		{name: "workflow unknown", srv: f.main, method: "GET", path: "/workflows/train-NFLX-none", status: 404},
		{name: "workflow bad id", srv: f.main, method: "GET", path: "/workflows/a..b", status: 400},
		{name: "workflows off", srv: f.bare, method: "GET", path: "/workflows/train-NFLX-a", status: 404},
		{name: "workflow Temporal error", srv: f.gateway, method: "GET", path: "/workflows/train-NFLX-a", status: 502},
		{name: "workflow Temporal down", srv: f.main, method: "GET", path: "/workflows/train-NFLX-a", status: 503, setup: f.temporalDown(true), undo: f.temporalDown(false)},
		{name: "cancel", srv: f.main, method: "DELETE", path: "/workflows/train-NFLX-a", auth: bearer, status: 202},
		{name: "cancel not running", srv: f.main, method: "DELETE", path: "/workflows/train-NFLX-b", auth: bearer, status: 409},
		{name: "cancel unknown", srv: f.main, method: "DELETE", path: "/workflows/train-NFLX-none", auth: bearer, status: 404},
		{name: "cancel bad id", srv: f.main, method: "DELETE", path: "/workflows/a..b", auth: bearer, status: 400},
		{name: "cancel no token", srv: f.main, method: "DELETE", path: "/workflows/train-NFLX-a", status: 401, invalid: true},
		{name: "cancel Temporal error", srv: f.gateway, method: "DELETE", path: "/workflows/train-NFLX-a", auth: bearer, status: 502},
		{name: "cancel Temporal down", srv: f.main, method: "DELETE", path: "/workflows/train-NFLX-a", auth: bearer, status: 503, setup: f.temporalDown(true), undo: f.temporalDown(false)},
		{name: "cancel wrong token", srv: f.main, method: "DELETE", path: "/workflows/train-NFLX-a", auth: wrong, status: 403},
		{name: "rollback no token", srv: f.main, method: "POST", path: "/models/MSFT/rollback", status: 401, invalid: true},
		{name: "rollback wrong token", srv: f.main, method: "POST", path: "/models/MSFT/rollback", auth: wrong, status: 403},
		{name: "rollback too large", srv: f.main, method: "POST", path: "/models/MSFT/rollback", ctype: j, auth: bearer,
			body: []byte(`{"reason":"` + strings.Repeat("r", 1<<20) + `"}`), status: 413},
		{name: "rollback form", srv: f.main, method: "POST", path: "/models/MSFT/rollback", ctype: retrainFormCT, auth: bearer, body: retrainForm, status: 415, invalid: true},
		{name: "retrain no token", srv: f.main, method: "POST", path: "/retrain", ctype: j, body: []byte(`{"ticker":"NFLX"}`), status: 401, invalid: true},
		{name: "retrain too large", srv: f.main, method: "POST", path: "/retrain", ctype: j, auth: bearer,
			body: []byte(`{"ticker":"NFLX","columns":"` + strings.Repeat("c", 1<<20) + `"}`), status: 413},
		{name: "retrain CSV", srv: f.main, method: "POST", path: "/retrain", ctype: "text/csv", auth: bearer, body: []byte(priceRows), status: 415, invalid: true},
		{name: "train Temporal error", srv: f.gateway, method: "POST", path: "/train", ctype: j, auth: bearer, body: trainJSON, status: 502},
		{name: "retrain Temporal error", srv: f.gateway, method: "POST", path: "/retrain", ctype: j, auth: bearer,
			body: []byte(`{"ticker":"NFLX","store_csv":"` + pricesKey + `"}`), status: 502},

		// A corrupt store: 500s.
		{name: "models corrupt", srv: f.corrupt, method: "GET", path: "/models", status: 500},
		{name: "model corrupt", srv: f.corrupt, method: "GET", path: "/models/BAD", status: 500},
		{name: "predict corrupt", srv: f.corrupt, method: "POST", path: "/predict", ctype: j,
			body: mustJSON(t, map[string]any{"ticker": "BAD", "open": nflx}), status: 500},
		{name: "promote corrupt", srv: f.corrupt, method: "POST", path: "/models/BAD/promote", ctype: j, auth: bearer, body: []byte(`{"version":1}`), status: 500},
		{name: "rollback corrupt", srv: f.corrupt, method: "POST", path: "/models/BAD/rollback", auth: bearer, status: 500},
		{name: "runs corrupt", srv: f.corrupt, method: "GET", path: "/runs", status: 500},
		{name: "run corrupt", srv: f.corrupt, method: "GET", path: "/runs/bad", status: 500},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { v.run(t, c) })
	}

	// Every operation answered with success at least once; list the
	// documented statuses no case produced.
	var untested []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			seen := v.covered[key]
			success := false
			for status := range seen {
				success = success || status < 300
			}
			if !success {
				t.Errorf("%s: no case answered it with success", key)
			}
			for status := range op.Responses.Map() {
				var n int
				if _, err := fmt.Sscan(status, &n); err == nil && !seen[n] {
					untested = append(untested, key+" "+status)
				}
			}
		}
	}
	sort.Strings(untested)
	t.Logf("documented answers no case produces: %s", strings.Join(untested, ", "))
}
