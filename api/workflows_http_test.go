package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/steps"
)

const (
	apiToken   = "tok-alpha-0123456789"
	apiToken2  = "tok-beta-9876543210"
	wfQueue    = "finsight-api-test"
	priceRows  = "Date,Open,High,Low,Close,Adj Close,Volume\n2022-01-03,600,610,590,605,605,1000\n2022-01-04,605,615,600,610,610,1100\n"
	pricesKey  = "incoming/nflx.csv"
	uiBase     = "http://ui.example/namespaces/default/workflows/"
	bearerAuth = "Bearer " + apiToken
)

// workflowServer is the API with the workflow routes on a fake Temporal.
type workflowServer struct {
	h     http.Handler
	store blob.Store
	tc    *fakeTemporal
}

// newWorkflowServer serves an empty store (but for pricesKey) with the
// workflow routes enabled with tokens (none: the mutating routes off).
func newWorkflowServer(t *testing.T, tokens ...string) *workflowServer {
	t.Helper()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := blob.PutBytes(context.Background(), store, pricesKey, []byte(priceRows)); err != nil {
		t.Fatal(err)
	}
	srv := api.New(store, gotch.CPU)
	t.Cleanup(srv.Close)
	tc := newFakeTemporal()
	err = srv.EnableWorkflows(api.WorkflowsConfig{Client: tc, TaskQueue: wfQueue, Namespace: "default", Tokens: tokens,
		WebUI: func(id string) string { return uiBase + id }, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &workflowServer{h: srv.Handler(), store: store, tc: tc}
}

// call sends a request with an Authorization header (none when auth is "").
func (ws *workflowServer) call(method, path, auth, contentType string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	ws.h.ServeHTTP(rec, req)
	return rec
}

func (ws *workflowServer) callJSON(method, path, body string) *httptest.ResponseRecorder {
	return ws.call(method, path, bearerAuth, "application/json", strings.NewReader(body))
}

// multipartBody is a form with fields (in order) and, unless file is nil,
// the CSV in field file after fieldsBefore of them.
func multipartBody(t *testing.T, fields [][2]string, fieldsBefore int, file []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i, f := range fields {
		if i == fieldsBefore && file != nil {
			writeFile(t, mw, file)
		}
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if fieldsBefore >= len(fields) && file != nil {
		writeFile(t, mw, file)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

func writeFile(t *testing.T, mw *multipart.Writer, file []byte) {
	t.Helper()
	fw, err := mw.CreateFormFile("file", "NFLX.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(file); err != nil {
		t.Fatal(err)
	}
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

type trainAnswer struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Start      string `json:"start"`
	Ticker     string `json:"ticker"`
	CSVKey     string `json:"csv_key"`
	WebUI      string `json:"web_ui"`
	StatusURL  string `json:"status_url"`
}

type errorAnswer struct {
	Error       string `json:"error"`
	Field       string `json:"field"`
	RetryAfterS int    `json:"retry_after_s"`
}

// mutatingRoutes are the routes behind a token, each with a request that
// gets past authentication.
var mutatingRoutes = []struct{ method, path, body string }{
	{http.MethodPost, "/train", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","epochs":1}`},
	{http.MethodPost, "/retrain", `{"ticker":"NFLX","store_csv":"` + pricesKey + `"}`},
	{http.MethodDelete, "/workflows/train-NFLX-x", ``},
	{http.MethodPost, "/models/NFLX/promote", `{"version":1}`},
	{http.MethodPost, "/models/NFLX/rollback", ``},
	{http.MethodPost, "/fleet", `{"items":[{"ticker":"NFLX","csv_key":"` + pricesKey + `"}]}`},
}

// TestMutatingRoutesNeedAToken: every mutating route, with no token
// configured (403 saying how to turn them on), no Authorization (401 with
// a Bearer challenge), a malformed one (401), a wrong token (403) and
// either configured token (past authentication).
func TestMutatingRoutesNeedAToken(t *testing.T) {
	off := newWorkflowServer(t)
	on := newWorkflowServer(t, apiToken, apiToken2)
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bare := api.New(store, gotch.CPU) // EnableWorkflows never called
	t.Cleanup(bare.Close)
	for _, r := range mutatingRoutes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			for name, ws := range map[string]*workflowServer{"no tokens": off, "not enabled": {h: bare.Handler()}} {
				rec := ws.call(r.method, r.path, bearerAuth, "application/json", strings.NewReader(r.body))
				if msg := errorMessage(t, rec, http.StatusForbidden); !strings.Contains(msg, "FINSIGHT_API_TOKENS") {
					t.Errorf("%s: 403 %q does not say how to turn the route on", name, msg)
				}
			}
			for _, auth := range []string{"", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", apiToken} {
				rec := on.call(r.method, r.path, auth, "application/json", strings.NewReader(r.body))
				errorMessage(t, rec, http.StatusUnauthorized)
				if ch := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") {
					t.Errorf("Authorization %q: WWW-Authenticate %q, want a Bearer challenge", auth, ch)
				}
			}
			for _, auth := range []string{"Bearer wrong", "Bearer " + apiToken + "x", "Bearer " + apiToken[:len(apiToken)-1], "Bearer " + strings.ToUpper(apiToken)} {
				rec := on.call(r.method, r.path, auth, "application/json", strings.NewReader(r.body))
				if msg := errorMessage(t, rec, http.StatusForbidden); msg != "wrong token" {
					t.Errorf("Authorization %q: %q", auth, msg)
				}
			}
			for _, tok := range []string{apiToken, apiToken2} {
				for _, auth := range []string{"Bearer " + tok, "bearer  " + tok + " "} {
					rec := on.call(r.method, r.path, auth, "application/json", strings.NewReader(r.body))
					if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
						t.Errorf("Authorization %q: %d %s, want past authentication", auth, rec.Code, rec.Body)
					}
				}
			}
		})
	}
	// Read routes stay open.
	on.tc.set(&fakeWorkflow{id: "train-NFLX-x", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING})
	for _, path := range []string{"/workflows/train-NFLX-x", "/healthz", "/models", "/runs"} {
		if rec := on.call(http.MethodGet, path, "", "", nil); rec.Code != http.StatusOK {
			t.Errorf("GET %s without a token: %d %s", path, rec.Code, rec.Body)
		}
	}
}

// POST /train with JSON starts TrainingPipeline under the id the starter
// derives for the same request; the same request again attaches, or finds
// the completed run.
func TestTrainStartsThePipelineOnce(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	body := `{"ticker":"nflx","csv_key":"` + pricesKey + `","epochs":2,"units":16,"dropout":0,"features":"open,close","new_run":false}`
	rec := ws.callJSON(http.MethodPost, "/train", body)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /train: %d %s", rec.Code, rec.Body)
	}
	ans := decode[trainAnswer](t, rec)

	// The starter's derivation for `starter train --ticker nflx --store-csv KEY --epochs 2 --units 16 --dropout 0 --features open,close`.
	req := pipeline.DefaultTrainRequest()
	req.Ticker, req.StoreCSV, req.Epochs, req.Units, req.Dropout, req.Features = "nflx", pricesKey, 2, 16, 0, "open,close"
	want, err := launch.PrepareTraining(context.Background(), ws.store, req, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ans.WorkflowID != want.ID || ans.Start != "started" || ans.Ticker != "NFLX" || ans.CSVKey != pricesKey ||
		ans.StatusURL != "/workflows/"+want.ID || ans.WebUI != uiBase+want.ID || ans.RunID == "" {
		t.Fatalf("answer %+v; want id %s", ans, want.ID)
	}
	if loc := rec.Header().Get("Location"); loc != ans.StatusURL {
		t.Errorf("Location %q, want %q", loc, ans.StatusURL)
	}
	w := ws.tc.get(want.ID)
	if w == nil || w.typ != pipeline.TrainingWorkflow || len(w.args) != 1 {
		t.Fatalf("started %+v", w)
	}
	in := w.args[0].(pipeline.TrainingInput)
	if in.Model.Epochs != 2 || in.Model.Units != 16 || in.Model.Dropout != 0 || in.Model.Layers != 2 || len(in.Transform.Features) != 2 || in.CSVKey != pricesKey {
		t.Errorf("input %+v", in)
	}

	again := decode[trainAnswer](t, ws.callJSON(http.MethodPost, "/train", body))
	if again.WorkflowID != ans.WorkflowID || again.Start != "attached" || again.RunID != ans.RunID {
		t.Errorf("the same request while running: %+v", again)
	}
	ws.tc.setStatus(want.ID, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	rec = ws.callJSON(http.MethodPost, "/train", body)
	done := decode[trainAnswer](t, rec)
	if rec.Code != http.StatusOK || done.WorkflowID != ans.WorkflowID || done.Start != "already_completed" {
		t.Errorf("the same request once completed: %d %+v", rec.Code, done)
	}
	ws.tc.setStatus(want.ID, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)
	retry := decode[trainAnswer](t, ws.callJSON(http.MethodPost, "/train", body))
	if retry.WorkflowID != ans.WorkflowID || retry.Start != "started" || retry.RunID == ans.RunID {
		t.Errorf("the same request after a failure: %+v, want a new run under the same id", retry)
	}
	fresh := decode[trainAnswer](t, ws.callJSON(http.MethodPost, "/train", strings.Replace(body, `"new_run":false`, `"new_run":true`, 1)))
	if !strings.HasPrefix(fresh.WorkflowID, ans.WorkflowID+"-") || fresh.Start != "started" {
		t.Errorf("new_run: %+v", fresh)
	}
	// curl -d sends application/x-www-form-urlencoded: the body is JSON all the same.
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain; charset=utf-8", ""} {
		rec := ws.call(http.MethodPost, "/train", bearerAuth, ct, strings.NewReader(body))
		if got := decode[trainAnswer](t, rec); got.WorkflowID != ans.WorkflowID {
			t.Errorf("Content-Type %q: %d %s", ct, rec.Code, rec.Body)
		}
	}
}

// POST /train with multipart/form-data stores the file under its hash, as
// `starter train --csv` uploads it, whatever the order of the fields.
func TestTrainUploadsTheCSV(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	fields := [][2]string{{"ticker", "NFLX"}, {"epochs", "1"}, {"force_promote", "true"}, {"margin", "0.05"}}
	var ids []string
	for _, before := range []int{0, 2, len(fields)} {
		ct, body := multipartBody(t, fields, before, []byte(priceRows))
		rec := ws.call(http.MethodPost, "/train", bearerAuth, ct, body)
		if rec.Code != http.StatusAccepted && rec.Code != http.StatusOK {
			t.Fatalf("file after %d fields: %d %s", before, rec.Code, rec.Body)
		}
		ans := decode[trainAnswer](t, rec)
		sum := blob.ContentHash([]byte(priceRows))
		if ans.CSVKey != pipeline.UploadKey(sum) || !strings.HasPrefix(ans.WorkflowID, "train-NFLX-"+sum[:8]+"-") {
			t.Fatalf("answer %+v, want the upload under %s", ans, sum)
		}
		got, err := blob.GetBytes(context.Background(), ws.store, ans.CSVKey)
		if err != nil || string(got) != priceRows {
			t.Fatalf("stored upload %q, %v", got, err)
		}
		in := ws.tc.get(ans.WorkflowID).args[0].(pipeline.TrainingInput)
		if in.Model.Epochs != 1 || !in.ForcePromote || in.PromotionMargin != 0.05 || in.Source != "NFLX.csv" {
			t.Errorf("input %+v", in)
		}
		ids = append(ids, ans.WorkflowID)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("the same request in another field order: ids %v", ids)
	}
	// The upload, and its key as store_csv, are one request (as --csv and
	// --store-csv uploads/<sha>.csv are to the starter).
	byKey := decode[trainAnswer](t, ws.callJSON(http.MethodPost, "/train",
		`{"ticker":"NFLX","store_csv":"`+pipeline.UploadKey(blob.ContentHash([]byte(priceRows)))+`","epochs":1,"force_promote":true,"margin":0.05}`))
	if byKey.WorkflowID != ids[0] {
		t.Errorf("store_csv of the same bytes: %s, want %s", byKey.WorkflowID, ids[0])
	}
}

func TestTrainRefusesBadRequests(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	for _, tc := range []struct {
		name, body, field string
	}{
		{"unknown field", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","epoch":3}`, "epoch"},
		{"wrong type", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","epochs":"three"}`, "epochs"},
		{"bad ticker", `{"ticker":"../etc","store_csv":"` + pricesKey + `"}`, "ticker"},
		{"no ticker", `{"store_csv":"` + pricesKey + `"}`, "ticker"},
		{"no data", `{"ticker":"NFLX"}`, "file"},
		{"missing object", `{"ticker":"NFLX","store_csv":"uploads/none.csv"}`, "store_csv"},
		{"bad key", `{"ticker":"NFLX","store_csv":"../../etc/passwd"}`, "store_csv"},
		{"two keys", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","csv_key":"other.csv"}`, "csv_key"},
		{"bad source", `{"ticker":"NFLX","source":"ftp"}`, "source"},
		{"yahoo without start", `{"ticker":"NFLX","source":"yahoo"}`, "start"},
		{"yahoo backwards", `{"ticker":"NFLX","source":"yahoo","start":"2021-01-01","end":"2020-01-01"}`, "start"},
		{"yahoo with a key", `{"ticker":"NFLX","source":"yahoo","start":"2020-01-01","store_csv":"` + pricesKey + `"}`, "store_csv"},
		{"negative epochs", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","epochs":-1}`, "epochs"},
		{"dropout 1", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","dropout":1}`, "dropout"},
		{"bad missing", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","missing":"guess"}`, "missing"},
		{"bad outlier k", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","outlier_k":0}`, "outlier_k"},
		{"bad feature", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","features":"open,vwap"}`, "features"},
		{"bad sampler", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","sampler":"grid"}`, "sampler"},
		{"bad device", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","run_device":"tpu"}`, "run_device"},
		{"bad columns", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","columns":"when=Day"}`, "columns"},
		{"bad date format", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","date_format":"QQ"}`, "date_format"},
		{"bad decimal", `{"ticker":"NFLX","store_csv":"` + pricesKey + `","decimal":";"}`, "decimal"},
		{"malformed", `{"ticker":`, ""},
		{"two objects", `{"ticker":"NFLX","store_csv":"` + pricesKey + `"} {}`, ""},
		{"empty", ``, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := ws.callJSON(http.MethodPost, "/train", tc.body)
			errorMessage(t, rec, http.StatusBadRequest)
			if got := decode[errorAnswer](t, rec); got.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", got.Field, tc.field, got.Error)
			}
		})
	}
	if ws.tc.starts != 0 {
		t.Errorf("%d workflows started by refused requests", ws.tc.starts)
	}

	// Multipart: a field of the wrong type, an unknown field, two files, a
	// file and store_csv.
	for _, tc := range []struct {
		name   string
		fields [][2]string
		files  int
		field  string
	}{
		{"form type", [][2]string{{"ticker", "NFLX"}, {"epochs", "x"}}, 1, "epochs"},
		{"form bool", [][2]string{{"ticker", "NFLX"}, {"force_promote", "maybe"}}, 1, "force_promote"},
		{"form unknown", [][2]string{{"ticker", "NFLX"}, {"epoch", "3"}}, 1, "epoch"},
		{"form both", [][2]string{{"ticker", "NFLX"}, {"store_csv", pricesKey}}, 1, "store_csv"},
		{"form two files", [][2]string{{"ticker", "NFLX"}}, 2, "file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, f := range tc.fields {
				_ = mw.WriteField(f[0], f[1])
			}
			for range tc.files {
				writeFile(t, mw, []byte(priceRows))
			}
			_ = mw.Close()
			rec := ws.call(http.MethodPost, "/train", bearerAuth, mw.FormDataContentType(), &buf)
			errorMessage(t, rec, http.StatusBadRequest)
			if got := decode[errorAnswer](t, rec); got.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", got.Field, tc.field, got.Error)
			}
		})
	}

	// Other bodies: 415, 413.
	errorMessage(t, ws.call(http.MethodPost, "/train", bearerAuth, "text/csv", strings.NewReader(priceRows)), http.StatusUnsupportedMediaType)
	big := bytes.Repeat([]byte("2022-01-03,600,610,590,605,605,1000\n"), (33<<20)/36)
	ct, body := multipartBody(t, [][2]string{{"ticker", "NFLX"}}, 1, big)
	errorMessage(t, ws.call(http.MethodPost, "/train", bearerAuth, ct, body), http.StatusRequestEntityTooLarge)
	errorMessage(t, ws.callJSON(http.MethodPost, "/train", `{"ticker":"`+strings.Repeat("N", 2<<20)+`"}`), http.StatusRequestEntityTooLarge)
	if keys, _ := ws.store.List(context.Background(), "uploads/"); len(keys) != 0 {
		t.Errorf("refused uploads were stored: %v", keys)
	}
}

// POST /retrain hands the CSV to the ticker's TickerRetrainer with one
// signal-with-start, as `starter retrain` does.
func TestRetrainHandsTheFileToTheTicker(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	ct, body := multipartBody(t, [][2]string{{"ticker", "nflx"}, {"mode", "auto"}, {"epochs", "3"}, {"run_device", "cuda"}}, 4, []byte(priceRows))
	rec := ws.call(http.MethodPost, "/retrain", bearerAuth, ct, body)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /retrain: %d %s", rec.Code, rec.Body)
	}
	var ans struct {
		WorkflowID string `json:"workflow_id"`
		Ticker     string `json:"ticker"`
		File       struct {
			Name, CSVKey, SHA256, Identity string
		} `json:"file"`
		StatusURL string `json:"status_url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	sum := blob.ContentHash([]byte(priceRows))
	if ans.WorkflowID != "retrain-NFLX" || ans.Ticker != "NFLX" || ans.File.SHA256 != sum || ans.File.Name != "NFLX.csv" || ans.StatusURL != "/workflows/retrain-NFLX" {
		t.Fatalf("answer %s", rec.Body)
	}
	w := ws.tc.get("retrain-NFLX")
	if w == nil || w.typ != pipeline.TickerWorkflow || len(w.signals) != 1 {
		t.Fatalf("ticker workflow %+v", w)
	}
	d := w.signals[0].(pipeline.NewData)
	if d.CSVKey != pipeline.UploadKey(sum) || d.Source != "api" || d.Options.Mode != pipeline.ModeAuto || d.Options.Epochs != 3 || d.Identity() != ans.File.Identity {
		t.Errorf("handed %+v", d)
	}
	if in := w.args[0].(pipeline.TickerInput); in.Ticker != "NFLX" || in.Device != "cuda" {
		t.Errorf("ticker input %+v", in)
	}
	// A CSV already in the store, by JSON; the running workflow gets the signal.
	rec = ws.callJSON(http.MethodPost, "/retrain", `{"ticker":"NFLX","store_csv":"`+pricesKey+`","force_promote":true}`)
	if rec.Code != http.StatusAccepted || len(ws.tc.get("retrain-NFLX").signals) != 2 {
		t.Fatalf("store_csv: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"ticker":"NFLX"}`, "file"},
		{`{"ticker":"NFLX","store_csv":"` + pricesKey + `","mode":"fast"}`, "mode"},
		{`{"ticker":"NFLX","store_csv":"` + pricesKey + `","epochs":-2}`, "epochs"},
		{`{"ticker":"NFLX","store_csv":"` + pricesKey + `","test_fraction":0.9}`, "test_fraction"},
		{`{"ticker":"NFLX","store_csv":"` + pricesKey + `","run_device":"tpu"}`, "run_device"},
		{`{"ticker":"NFLX","store_csv":"` + pricesKey + `","wait":true}`, "wait"},
		{`{"ticker":"NFLX","store_csv":"nothing/here.csv"}`, "store_csv"},
		{`{"ticker":"N/A","store_csv":"` + pricesKey + `"}`, "ticker"},
	} {
		rec := ws.callJSON(http.MethodPost, "/retrain", tc.body)
		errorMessage(t, rec, http.StatusBadRequest)
		if got := decode[errorAnswer](t, rec); got.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.body, got.Field, tc.field, got.Error)
		}
	}
}

type workflowAnswer struct {
	WorkflowID string          `json:"workflow_id"`
	Type       string          `json:"type"`
	Status     string          `json:"status"`
	Stage      string          `json:"stage"`
	Epoch      int             `json:"epoch"`
	Epochs     int             `json:"epochs"`
	LastError  string          `json:"last_error"`
	Result     json.RawMessage `json:"result"`
	WebUI      string          `json:"web_ui"`
	StatusURL  string          `json:"status_url"`
}

func TestGetWorkflow(t *testing.T) {
	ws := newWorkflowServer(t) // no tokens: reading stays open
	ws.tc.set(&fakeWorkflow{id: "train-NFLX-a", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		progress: pipeline.Progress{Stage: "train", Epoch: 2, Epochs: 5, TrainLoss: 0.5, ValLoss: 0.6}})
	ws.tc.set(&fakeWorkflow{id: "train-NFLX-b", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
		result: pipeline.TrainingResult{Ticker: "NFLX", ModelVersion: 3}})
	ws.tc.set(&fakeWorkflow{id: "train-NFLX-c", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, failure: "InvalidData: line 3"})
	ws.tc.set(&fakeWorkflow{id: "finsight-inbox-2024-05-01T12:00:00Z", typ: pipeline.InboxWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, failure: "canceled"})
	ws.tc.set(&fakeWorkflow{id: "retrain-^GSPC", typ: pipeline.TickerWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, failure: "timeout"})

	get := func(id string) workflowAnswer {
		t.Helper()
		rec := ws.call(http.MethodGet, "/workflows/"+id, "", "", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /workflows/%s: %d %s", id, rec.Code, rec.Body)
		}
		return decode[workflowAnswer](t, rec)
	}
	if a := get("train-NFLX-a"); a.Status != "running" || a.Stage != "train" || a.Epoch != 2 || a.Epochs != 5 || a.WebUI != uiBase+"train-NFLX-a" ||
		a.StatusURL != "/workflows/train-NFLX-a" || a.Type != pipeline.TrainingWorkflow || a.Result != nil {
		t.Errorf("running: %+v", a)
	}
	b := get("train-NFLX-b")
	var res pipeline.TrainingResult
	if err := json.Unmarshal(b.Result, &res); b.Status != "completed" || err != nil || res.ModelVersion != 3 {
		t.Errorf("completed: %+v (%v)", b, err)
	}
	if c := get("train-NFLX-c"); c.Status != "failed" || c.LastError != "InvalidData: line 3" || c.Result != nil {
		t.Errorf("failed: %+v", c)
	}
	if d := get("finsight-inbox-2024-05-01T12:00:00Z"); d.Status != "cancelled" {
		t.Errorf("cancelled: %+v", d)
	}
	if e := get("retrain-%5EGSPC"); e.Status != "timed_out" || e.WorkflowID != "retrain-^GSPC" {
		t.Errorf("timed out: %+v", e)
	}
	errorMessage(t, ws.call(http.MethodGet, "/workflows/train-NFLX-zzz", "", "", nil), http.StatusNotFound)
	for _, bad := range []string{"a..b", "-x", "x%20y", "x%2F..%2Fy", "%2E%2E", strings.Repeat("a", 256), "x%00"} {
		rec := ws.call(http.MethodGet, "/workflows/"+bad, "", "", nil)
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusNotFound {
			t.Errorf("GET /workflows/%s: %d %s, want 400 (or no such route)", bad, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusNotFound && !strings.Contains(rec.Body.String(), "no such endpoint") {
			t.Errorf("GET /workflows/%s reached the handler: %s", bad, rec.Body)
		}
	}
	errorMessage(t, ws.call(http.MethodGet, "/workflows/a..b", "", "", nil), http.StatusBadRequest)
}

func TestDeleteWorkflowCancels(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	ws.tc.set(&fakeWorkflow{id: "train-NFLX-a", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING})
	ws.tc.set(&fakeWorkflow{id: "train-NFLX-b", typ: pipeline.TrainingWorkflow, status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED})
	rec := ws.call(http.MethodDelete, "/workflows/train-NFLX-a", bearerAuth, "", nil)
	if rec.Code != http.StatusAccepted || len(ws.tc.cancels) != 1 || ws.tc.cancels[0] != "train-NFLX-a" {
		t.Fatalf("DELETE running: %d %s, cancels %v", rec.Code, rec.Body, ws.tc.cancels)
	}
	if a := decode[map[string]any](t, rec); a["status"] != "cancel_requested" || a["status_url"] != "/workflows/train-NFLX-a" {
		t.Errorf("answer %v", a)
	}
	if msg := errorMessage(t, ws.call(http.MethodDelete, "/workflows/train-NFLX-b", bearerAuth, "", nil), http.StatusConflict); !strings.Contains(msg, "completed") {
		t.Errorf("DELETE completed: %q", msg)
	}
	errorMessage(t, ws.call(http.MethodDelete, "/workflows/train-NFLX-none", bearerAuth, "", nil), http.StatusNotFound)
	errorMessage(t, ws.call(http.MethodDelete, "/workflows/a..b", bearerAuth, "", nil), http.StatusBadRequest)
	if len(ws.tc.cancels) != 1 {
		t.Errorf("cancels %v", ws.tc.cancels)
	}
}

// While Temporal is unreachable the workflow routes answer 503 JSON with
// Retry-After; /train names the stored CSV to retry with.
func TestWorkflowRoutesWhileTemporalIsDown(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	ws.tc.down = true
	ct, body := multipartBody(t, [][2]string{{"ticker", "NFLX"}}, 1, []byte(priceRows))
	for _, rec := range []*httptest.ResponseRecorder{
		ws.call(http.MethodPost, "/train", bearerAuth, ct, body),
		ws.callJSON(http.MethodPost, "/retrain", `{"ticker":"NFLX","store_csv":"`+pricesKey+`"}`),
		ws.call(http.MethodGet, "/workflows/train-NFLX-a", "", "", nil),
		ws.call(http.MethodDelete, "/workflows/train-NFLX-a", bearerAuth, "", nil),
	} {
		errorMessage(t, rec, http.StatusServiceUnavailable)
		if ra := rec.Header().Get("Retry-After"); ra != "10" {
			t.Errorf("Retry-After %q", ra)
		}
		if a := decode[errorAnswer](t, rec); a.RetryAfterS != 10 || !strings.Contains(a.Error, "temporal unavailable") {
			t.Errorf("answer %+v", a)
		}
	}

	// A real lazy client with nothing listening: the same.
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	srv := api.New(store, gotch.CPU)
	t.Cleanup(srv.Close)
	if err := srv.EnableWorkflows(api.WorkflowsConfig{Client: lazy, TaskQueue: wfQueue, Tokens: []string{apiToken}, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	real := &workflowServer{h: srv.Handler(), store: store}
	ct, body = multipartBody(t, [][2]string{{"ticker", "NFLX"}, {"epochs", "1"}}, 2, []byte(priceRows))
	rec := real.call(http.MethodPost, "/train", bearerAuth, ct, body)
	errorMessage(t, rec, http.StatusServiceUnavailable)
	if a := decode[map[string]any](t, rec); a["csv_key"] != pipeline.UploadKey(blob.ContentHash([]byte(priceRows))) || rec.Header().Get("Retry-After") == "" {
		t.Errorf("Temporal down: %v", a)
	}
	errorMessage(t, real.call(http.MethodGet, "/workflows/train-NFLX-a", "", "", nil), http.StatusServiceUnavailable)
}

// registerVersions registers n versions of ticker (champion each in turn).
func registerVersions(t *testing.T, store blob.Store, ticker string, n int) {
	t.Helper()
	ctx := context.Background()
	reg := registry.Registry{Store: store}
	files := map[string][]byte{registry.FileWeights: {1}, registry.FileScaler: {2}, registry.FileConfig: {3}, registry.FileMetrics: {4}, registry.FileLineage: {5}}
	for i := range n {
		v, err := reg.Register(ctx, ticker, registry.Version{RunID: fmt.Sprint("r", i+1)}, files)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.SetAlias(ctx, ticker, registry.Champion, v.Version, "test", false, ""); err != nil {
			t.Fatal(err)
		}
	}
}

type aliasAnswer struct {
	Ticker            string `json:"ticker"`
	Champion          int    `json:"champion"`
	Previous          int    `json:"previous"`
	Changed           bool   `json:"changed"`
	Notification      string `json:"notification"`
	NotificationError string `json:"notification_error"`
}

func TestPromoteAndRollback(t *testing.T) {
	ws := newWorkflowServer(t, apiToken)
	registerVersions(t, ws.store, "NFLX", 3) // champion v3
	reg := registry.Registry{Store: ws.store}

	rec := ws.callJSON(http.MethodPost, "/models/nflx/promote", `{"version":1,"reason":"better on 2022"}`)
	if a := decode[aliasAnswer](t, rec); rec.Code != http.StatusOK || a.Champion != 1 || a.Previous != 3 || !a.Changed || a.Ticker != "NFLX" {
		t.Fatalf("promote: %d %s", rec.Code, rec.Body)
	}
	m, err := reg.Manifest(context.Background(), "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	last := m.History[len(m.History)-1]
	if m.Aliases[registry.Champion] != 1 || !last.Forced || last.Reason != "better on 2022" {
		t.Errorf("registry after promote: %+v, last move %+v", m.Aliases, last)
	}
	if a := decode[aliasAnswer](t, ws.callJSON(http.MethodPost, "/models/NFLX/promote", `{"version":1}`)); a.Changed {
		t.Errorf("promoting the champion again: %+v", a)
	}

	rec = ws.call(http.MethodPost, "/models/NFLX/rollback", bearerAuth, "", nil)
	a := decode[aliasAnswer](t, rec)
	if rec.Code != http.StatusOK || a.Champion != 3 || a.Previous != 1 || a.Notification == "" {
		t.Fatalf("rollback: %d %s", rec.Code, rec.Body)
	}
	// The same Notification the starter queues: id rollback-<T>-<n>, the event of the move.
	m, _ = reg.Manifest(context.Background(), "NFLX")
	if want := "rollback-NFLX-" + strconv.Itoa(len(m.History)); a.Notification != want {
		t.Errorf("notification %s, want %s", a.Notification, want)
	}
	w := ws.tc.get(a.Notification)
	if w == nil || w.typ != pipeline.NotifyWorkflow {
		t.Fatalf("notification workflow %+v", w)
	}
	ev := w.args[0].(steps.NotifyInput).Event
	if ev.Kind != notify.KindRolledBack || ev.Ticker != "NFLX" || ev.ModelVersion != 3 || ev.PreviousVersion != 1 || !strings.Contains(ev.Reason, "rolled back by hand") {
		t.Errorf("notification event %+v", ev)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, "/models/AAPL/promote", `{"version":1}`, http.StatusNotFound},
		{http.MethodPost, "/models/AAPL/rollback", ``, http.StatusNotFound},
		{http.MethodPost, "/models/NFLX/promote", `{"version":9}`, http.StatusNotFound},
		{http.MethodPost, "/models/NFLX/promote", `{}`, http.StatusBadRequest},
		{http.MethodPost, "/models/NFLX/promote", `{"version":"2"}`, http.StatusBadRequest},
		{http.MethodPost, "/models/NFLX/promote", `{"version":2,"alias":"challenger"}`, http.StatusBadRequest},
		{http.MethodPost, "/models/N$X/promote", `{"version":2}`, http.StatusBadRequest},
		{http.MethodPost, "/models/NFLX/rollback", `{"reason":1}`, http.StatusBadRequest},
	} {
		rec := ws.callJSON(tc.method, tc.path, tc.body)
		errorMessage(t, rec, tc.status)
	}
	// No champion before the first: 409.
	registerVersions(t, ws.store, "MSFT", 1)
	errorMessage(t, ws.callJSON(http.MethodPost, "/models/MSFT/rollback", `{"reason":"x"}`), http.StatusConflict)

	// Temporal down: the rollback stands, the notification says why it was not queued.
	ws.tc.down = true
	rec = ws.callJSON(http.MethodPost, "/models/NFLX/rollback", `{"reason":"again"}`)
	if a := decode[aliasAnswer](t, rec); rec.Code != http.StatusOK || a.Champion != 2 || a.NotificationError == "" {
		t.Errorf("rollback with Temporal down: %d %s", rec.Code, rec.Body)
	}
}
