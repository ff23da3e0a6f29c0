package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/finsight/finsight/internal/handoff"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

// Limits and defaults of the workflow routes.
const (
	// DefaultTemporalTimeout bounds the Temporal calls of one request.
	DefaultTemporalTimeout = 10 * time.Second
	// temporalRetryAfter is the Retry-After (seconds) of a 503 while
	// Temporal is unreachable.
	temporalRetryAfter = 10
	// workflowUploadMax bounds a POST /train or /retrain body that carries
	// a CSV (multipart/form-data), as /predict bounds its uploads.
	workflowUploadMax = 32 << 20
	// workflowJSONMax bounds a JSON body.
	workflowJSONMax = 1 << 20
	// formFieldMax bounds one form field of a multipart body.
	formFieldMax = 4 << 10
	// formFile is the multipart field of the CSV.
	formFile = "file"
	// uploadSource is NewData.Source of a file handed over by the API.
	uploadSource = "api"
)

// WorkflowClient is what the workflow routes need of a Temporal client
// (client.Client has it; the API's is lazy, so the API starts while
// Temporal is down).
type WorkflowClient interface {
	launch.TrainingStarter
	launch.OperatorClient
	handoff.Signaler
	QueryWorkflow(ctx context.Context, workflowID string, runID string, queryType string, args ...interface{}) (converter.EncodedValue, error)
	CancelWorkflow(ctx context.Context, workflowID string, runID string) error
}

// WorkflowsConfig configures the workflow routes: POST /train, POST
// /retrain, GET and DELETE /workflows/{id}, POST
// /models/{ticker}/promote and /rollback.
type WorkflowsConfig struct {
	// Client reaches Temporal.
	Client WorkflowClient
	// TaskQueue is where the workers poll.
	TaskQueue string
	// Namespace is the client's, for the search attributes.
	Namespace string
	// WebUI links a workflow in the Temporal Web UI (nil: no links).
	WebUI func(workflowID string) string
	// Tokens are the bearer tokens of the mutating routes (all but GET
	// /workflows/{id}). With none, those routes answer 403 saying how to
	// turn them on.
	Tokens []string
	// Timeout bounds the Temporal calls of one request
	// (DefaultTemporalTimeout when 0).
	Timeout time.Duration
}

// workflowRoutes is an enabled set of workflow routes.
type workflowRoutes struct {
	client    WorkflowClient
	queue     string
	namespace string
	webUI     func(string) string
	tokens    tokenSet
	timeout   time.Duration
}

// EnableWorkflows turns on the workflow routes. Call it before Handler.
// Without it, the mutating routes answer 403 (no tokens) and GET
// /workflows/{id} 404.
func (s *Server) EnableWorkflows(cfg WorkflowsConfig) error {
	switch {
	case cfg.Client == nil:
		return errors.New("enable workflow routes: no Temporal client")
	case cfg.TaskQueue == "":
		return errors.New("enable workflow routes: empty task queue")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTemporalTimeout
	}
	s.workflows = &workflowRoutes{client: cfg.Client, queue: cfg.TaskQueue, namespace: cfg.Namespace, webUI: cfg.WebUI,
		tokens: newTokenSet(cfg.Tokens), timeout: cfg.Timeout}
	return nil
}

// links are the answers' pointers to a workflow.
type links struct {
	WebUI     string `json:"web_ui,omitempty"`
	StatusURL string `json:"status_url"`
}

func (w *workflowRoutes) links(id string) links {
	l := links{StatusURL: "/workflows/" + url.PathEscape(id)}
	if w.webUI != nil {
		l.WebUI = w.webUI(id)
	}
	return l
}

// trainAnswer is POST /train's answer.
type trainAnswer struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Start says what the request found: started (a new run), attached
	// (the same request was running) or already_completed (it completed
	// earlier; new_run trains again).
	Start  string `json:"start"`
	Ticker string `json:"ticker"`
	CSVKey string `json:"csv_key,omitempty"`
	links
}

// trainBody is POST /train's JSON: the starter's train flags, with
// csv_key accepted for store_csv.
type trainBody struct {
	pipeline.TrainRequest
	CSVKey string `json:"csv_key"`
}

// postTrain answers POST /train: it starts TrainingPipeline on the request
// (JSON, or multipart/form-data with the CSV in field file), under the
// workflow id the starter derives for the same request, or attaches to the
// run already under that id.
func (s *Server) postTrain(c *gin.Context) {
	w := s.workflows
	body := trainBody{TrainRequest: pipeline.DefaultTrainRequest()}
	file, ok := readRequest(c, &body)
	if !ok {
		return
	}
	defer file.Close()
	r := body.TrainRequest
	if err := mergeCSVKey(&r.StoreCSV, body.CSVKey); err != nil {
		requestFailed(c, err)
		return
	}
	c.Set(logTicker, strings.ToUpper(strings.TrimSpace(r.Ticker)))
	if err := r.Check(file != nil); err != nil {
		requestFailed(c, err)
		return
	}
	up, ok := s.putUpload(c, file)
	if !ok {
		return
	}
	tr, err := launch.PrepareTraining(c.Request.Context(), s.store, r, up, time.Now())
	if err != nil {
		s.requestOrStoreFailed(c, err)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), w.timeout)
	defer cancel()
	in := tr.Input
	in.SearchAttributes = launch.HasSearchAttributes(ctx, w.client, w.namespace)
	run, how, err := launch.StartTraining(ctx, w.client, client.StartWorkflowOptions{ID: tr.ID, TaskQueue: w.queue}, in)
	if err != nil {
		temporalFailed(c, err, gin.H{"workflow_id": tr.ID, "csv_key": in.CSVKey})
		return
	}
	ans := trainAnswer{WorkflowID: tr.ID, RunID: run.GetRunID(), Start: how.String(), Ticker: in.Ticker, CSVKey: in.CSVKey, links: w.links(tr.ID)}
	slog.Info("api: train", "workflow_id", tr.ID, "run_id", ans.RunID, "start", ans.Start, "ticker", in.Ticker)
	c.Header("Location", ans.StatusURL)
	status := http.StatusAccepted
	if how == launch.AlreadyCompleted {
		status = http.StatusOK // nothing new was accepted: the result stands
	}
	c.JSON(status, ans)
}

// retrainBody is POST /retrain's JSON: the starter's retrain flags, with
// the CSV named by store_csv (or csv_key) when it is not uploaded.
type retrainBody struct {
	pipeline.RetrainRequest
	StoreCSV string `json:"store_csv"`
	CSVKey   string `json:"csv_key"`
}

// retrainAnswer is POST /retrain's answer.
type retrainAnswer struct {
	WorkflowID string        `json:"workflow_id"`
	RunID      string        `json:"run_id"`
	Ticker     string        `json:"ticker"`
	File       retrainedFile `json:"file"`
	links
}

// retrainedFile is the file handed to the ticker's workflow.
type retrainedFile struct {
	Name   string `json:"name"`
	CSVKey string `json:"csv_key"`
	SHA256 string `json:"sha256"`
	// Identity is what the ticker's workflow knows the file by (its
	// content and format); its status query lists it.
	Identity string `json:"identity"`
}

// postRetrain answers POST /retrain: it hands the CSV (uploaded in field
// file, or store_csv) to the ticker's TickerRetrainer with one
// signal-with-start, as `starter retrain` does.
func (s *Server) postRetrain(c *gin.Context) {
	w := s.workflows
	body := retrainBody{RetrainRequest: pipeline.DefaultRetrainRequest()}
	file, ok := readRequest(c, &body)
	if !ok {
		return
	}
	defer file.Close()
	if err := mergeCSVKey(&body.StoreCSV, body.CSVKey); err != nil {
		requestFailed(c, err)
		return
	}
	c.Set(logTicker, strings.ToUpper(strings.TrimSpace(body.Ticker)))
	req, err := body.Check()
	switch {
	case err != nil:
		requestFailed(c, err)
		return
	case file != nil && body.StoreCSV != "":
		requestFailed(c, &pipeline.FieldError{Field: "store_csv", Msg: "give {file} or {store_csv}, not both"})
		return
	case file == nil && body.StoreCSV == "":
		requestFailed(c, &pipeline.FieldError{Field: "file", Msg: "a CSV of the new days is required: upload it as {file} (multipart/form-data) or name one in the store with {store_csv}"})
		return
	}
	up, ok := s.putUpload(c, file)
	if !ok {
		return
	}
	name := ""
	if up == nil {
		if s.storeDown(c) {
			return
		}
		stored, err := launch.StoredCSV(c.Request.Context(), s.store, body.StoreCSV)
		if err != nil {
			s.requestOrStoreFailed(c, err)
			return
		}
		up, name = &stored, path.Base(body.StoreCSV)
	} else {
		name = up.Name
	}
	d := launch.NewData(*up, name, req, uploadSource, time.Now())
	ctx, cancel := context.WithTimeout(c.Request.Context(), w.timeout)
	defer cancel()
	target := handoff.Target{TaskQueue: w.queue, Device: req.Device, SearchAttributes: launch.HasSearchAttributes(ctx, w.client, w.namespace)}
	id := pipeline.TickerWorkflowID(req.Ticker)
	runID, err := handoff.ToTicker(ctx, w.client, target, req.Ticker, d)
	if err != nil {
		temporalFailed(c, err, gin.H{"workflow_id": id, "csv_key": up.Key})
		return
	}
	slog.Info("api: retrain", "workflow_id", id, "run_id", runID, "ticker", req.Ticker, "file", d.Name, "sha256", d.SHA256)
	ans := retrainAnswer{WorkflowID: id, RunID: runID, Ticker: req.Ticker,
		File: retrainedFile{Name: d.Name, CSVKey: d.CSVKey, SHA256: d.SHA256, Identity: d.Identity()}, links: w.links(id)}
	c.Header("Location", ans.StatusURL)
	c.JSON(http.StatusAccepted, ans)
}

// workflowView is GET /workflows/{id}'s answer: the status `starter
// status --json` prints, with the status as one lower-case word
// (launch.StatusWord) and, once it completed, its result.
type workflowView struct {
	launch.WorkflowStatus
	Status    string          `json:"status"`
	Result    json.RawMessage `json:"result,omitempty"`
	StatusURL string          `json:"status_url"`
}

// getWorkflow answers GET /workflows/{id}: the status of the workflow's
// latest run, its progress (step, epoch, losses) while it runs, its result
// or how it failed once it closed.
func (s *Server) getWorkflow(c *gin.Context) {
	w := s.workflows
	id, ok := workflowParam(c)
	if !ok {
		return
	}
	if w == nil {
		jsonError(c, http.StatusNotFound, "workflow routes are not configured: the API has no Temporal client")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), w.timeout)
	defer cancel()
	d, ok := w.describe(ctx, c, id)
	if !ok {
		return
	}
	st := launch.StatusReport(ctx, w.client, d)
	l := w.links(id)
	st.WebUI = l.WebUI
	v := workflowView{WorkflowStatus: st, Status: launch.StatusWord(d.GetWorkflowExecutionInfo().GetStatus()), StatusURL: l.StatusURL}
	if d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		var res json.RawMessage
		if err := w.client.GetWorkflow(ctx, id, st.RunID).Get(ctx, &res); err == nil && len(res) > 0 {
			v.Result = res
		}
	}
	c.JSON(http.StatusOK, v)
}

// deleteWorkflow answers DELETE /workflows/{id}: it asks the running
// workflow to cancel (a pipeline then closes its run record as cancelled
// and notifies) and answers 202 without waiting; GET /workflows/{id}
// shows when it ends.
func (s *Server) deleteWorkflow(c *gin.Context) {
	w := s.workflows
	id, ok := workflowParam(c)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), w.timeout)
	defer cancel()
	d, ok := w.describe(ctx, c, id)
	if !ok {
		return
	}
	info := d.GetWorkflowExecutionInfo()
	runID := info.GetExecution().GetRunId()
	if st := info.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": fmt.Sprintf("%s is not running: it is %s", id, launch.StatusWord(st)),
			"status": launch.StatusWord(st)})
		return
	}
	if err := w.client.CancelWorkflow(ctx, id, runID); err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			jsonError(c, http.StatusNotFound, "no workflow "+id)
			return
		}
		temporalFailed(c, err, nil)
		return
	}
	slog.Info("api: cancel requested", "workflow_id", id, "run_id", runID, "type", info.GetType().GetName())
	c.JSON(http.StatusAccepted, gin.H{"workflow_id": id, "run_id": runID, "type": info.GetType().GetName(),
		"status": "cancel_requested", "web_ui": w.links(id).WebUI, "status_url": w.links(id).StatusURL})
}

// describe describes workflow id's latest run, answering 404 when there
// is none and 503 while Temporal is unreachable.
func (w *workflowRoutes) describe(ctx context.Context, c *gin.Context, id string) (*workflowservice.DescribeWorkflowExecutionResponse, bool) {
	d, err := w.client.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		jsonError(c, http.StatusNotFound, "no workflow "+id+" in this namespace")
		return nil, false
	case err != nil:
		temporalFailed(c, err, nil)
		return nil, false
	}
	return d, true
}

// workflowIDPattern is what a workflow id in a path may be: FinSight's ids
// (train-NFLX-…, retrain-^GSPC, finsight-inbox-2024-05-01T12:00:00Z, ...)
// and nothing that could be read as a path or a query.
var workflowIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:^=+@-]{0,254}$`)

// workflowParam is the route's :id, checked; it answers 400 otherwise.
func workflowParam(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if !workflowIDPattern.MatchString(id) || strings.Contains(id, "..") {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("invalid workflow id %q: want letters, digits and . _ : ^ = + @ -, at most 255", id),
			"field": "id"})
		return "", false
	}
	return id, true
}

// temporalUnavailable reports whether err says Temporal could not be
// reached (or answered too slowly, or shed load): worth retrying.
func temporalUnavailable(err error) bool {
	var un *serviceerror.Unavailable
	var dl *serviceerror.DeadlineExceeded
	var re *serviceerror.ResourceExhausted
	return errors.As(err, &un) || errors.As(err, &dl) || errors.As(err, &re) || errors.Is(err, context.DeadlineExceeded)
}

// temporalFailed answers a Temporal error: 503 with Retry-After when
// Temporal is unreachable, 502 for anything else it answered; extra
// fields (the workflow id, the stored CSV to retry with) go along.
func temporalFailed(c *gin.Context, err error, extra gin.H) {
	body := gin.H{}
	for k, v := range extra {
		if v != "" {
			body[k] = v
		}
	}
	status := http.StatusBadGateway
	if temporalUnavailable(err) {
		status = http.StatusServiceUnavailable
		c.Header("Retry-After", strconv.Itoa(temporalRetryAfter))
		body["error"] = fmt.Sprintf("temporal unavailable, retry in %d s: %v", temporalRetryAfter, err)
		body["retry_after_s"] = temporalRetryAfter
	} else {
		body["error"] = "temporal: " + err.Error()
	}
	slog.Error("api: temporal", "route", c.FullPath(), "err", err)
	c.AbortWithStatusJSON(status, body)
}

// requestFailed answers a request error: 400 naming the field when it is
// a *pipeline.FieldError.
func requestFailed(c *gin.Context, err error) {
	var fe *pipeline.FieldError
	if errors.As(err, &fe) {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": fe.Error(), "field": fe.Field})
		return
	}
	jsonError(c, http.StatusBadRequest, err.Error())
}

// requestOrStoreFailed answers an error of a step that reads the request
// and the store: the request's (400) or the store's (503 while it is
// unavailable, else 500).
func (s *Server) requestOrStoreFailed(c *gin.Context, err error) {
	var fe *pipeline.FieldError
	if errors.As(err, &fe) {
		requestFailed(c, err)
		return
	}
	s.storeFailed(c, err)
}

// mergeCSVKey takes csv_key as another name of store_csv.
func mergeCSVKey(storeCSV *string, csvKey string) error {
	switch {
	case csvKey == "":
	case *storeCSV == "":
		*storeCSV = csvKey
	case *storeCSV != csvKey:
		return &pipeline.FieldError{Field: "csv_key", Msg: "csv_key and store_csv name the same thing: give one"}
	}
	return nil
}

// putUpload stores an uploaded CSV (nil: none came), answering the
// store's error.
func (s *Server) putUpload(c *gin.Context, file *launch.Spooled) (*launch.Upload, bool) {
	if file == nil {
		return nil, true
	}
	if s.storeDown(c) {
		return nil, false
	}
	up, err := file.Put(c.Request.Context(), s.store)
	if err != nil {
		s.storeFailed(c, err)
		return nil, false
	}
	return &up, true
}

// readRequest reads a request body into dst (a struct whose fields, by
// their JSON names, are the request's): a JSON object, or
// multipart/form-data whose fields are dst's and whose field file is the
// CSV, spooled to a temporary file. Unknown fields are refused. It answers
// the error itself (400, 413, 415) and then returns false.
func readRequest(c *gin.Context, dst any) (*launch.Spooled, bool) {
	ct := c.GetHeader("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case isJSONType(ct):
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, workflowJSONMax)
		if err := decodeStrict(c.Request.Body, dst, false); err != nil {
			bodyFailed(c, err)
			return nil, false
		}
		return nil, true
	case err == nil && mt == "multipart/form-data":
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, workflowUploadMax)
		file, err := readMultipart(c, dst)
		if err != nil {
			bodyFailed(c, err)
			return nil, false
		}
		return file, true
	}
	jsonError(c, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Type %q: send application/json, or multipart/form-data with the CSV in field %s", ct, formFile))
	return nil, false
}

// isJSONType reports whether a Content-Type means a JSON body. As for
// /predict, no Content-Type, text/plain and
// application/x-www-form-urlencoded (curl -d's default) mean JSON too.
func isJSONType(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case mt == "application/json", strings.HasSuffix(mt, "+json"), mt == "text/plain", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

// bodyFailed answers an error reading a body: 413 past the limit, else
// as requestFailed.
func bodyFailed(c *gin.Context, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		jsonError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d MiB", tooBig.Limit>>20))
		return
	}
	requestFailed(c, err)
}

// decodeStrict decodes one JSON object into dst, refusing unknown fields
// and anything after the object; a field of the wrong type is a
// *pipeline.FieldError. An empty body leaves dst as it is when
// emptyOK.
func decodeStrict(r io.Reader, dst any, emptyOK bool) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	var typeErr *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		if emptyOK {
			return nil
		}
		return errors.New("empty body: send a JSON object")
	case errors.As(err, &maxErr):
		return err
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Errorf("the body must be a JSON object, not a JSON %s", typeErr.Value)
	case errors.As(err, &typeErr):
		field := typeErr.Field[strings.LastIndexByte(typeErr.Field, '.')+1:] // "TrainRequest.epochs": an embedded struct's field
		return &pipeline.FieldError{Field: field, Msg: fmt.Sprintf("want %s, got a JSON %s", jsonKind(typeErr.Type), typeErr.Value)}
	case err != nil:
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name, _ = strconv.Unquote(name)
			return &pipeline.FieldError{Field: name, Msg: "unknown field"}
		}
		return fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if errors.As(err, &maxErr) {
			return err
		}
		return errors.New("malformed JSON: more after the object")
	}
	return nil
}

// jsonKind says what JSON a Go type reads.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return "a " + t.String()
}

// readMultipart reads a multipart body: field file is spooled (at most
// one), every other field sets dst's field of that JSON name.
func readMultipart(c *gin.Context, dst any) (file *launch.Spooled, err error) {
	defer func() {
		if err != nil {
			file.Close()
			file = nil
		}
	}()
	_, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, errors.New("malformed multipart body: no boundary in its Content-Type")
	}
	mr := newFormReader(c.Request.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) && !mr.complete() {
			return file, errFormCut
		}
		if errors.Is(err, io.EOF) {
			return file, nil
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return file, err
			}
			return file, fmt.Errorf("malformed multipart body: %w", err)
		}
		name := part.FormName()
		if name == formFile {
			if file != nil {
				return file, &pipeline.FieldError{Field: formFile, Msg: "one file per request"}
			}
			if file, err = launch.Spool(part, uploadName(part)); err != nil {
				return file, err
			}
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, formFieldMax+1))
		if err != nil {
			return file, err
		}
		if len(value) > formFieldMax {
			return file, &pipeline.FieldError{Field: name, Msg: fmt.Sprintf("over %d bytes", formFieldMax)}
		}
		if err := setField(dst, name, string(value)); err != nil {
			return file, err
		}
	}
}

// uploadName is a file part's name for people: its base name, printable
// characters only, at most 128 bytes.
func uploadName(part *multipart.Part) string {
	name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, name)
	if len(name) > 128 {
		name = name[:128]
	}
	if name == "" || name == "." || name == "/" {
		return "upload.csv"
	}
	return name
}

// setField sets the field of dst (a pointer to a struct) whose JSON name
// is name from a form value: a string as it is, a number or a boolean
// parsed.
func setField(dst any, name, value string) error {
	f, ok := fieldByJSONName(reflect.ValueOf(dst).Elem(), name)
	if !ok {
		return &pipeline.FieldError{Field: name, Msg: "unknown field"}
	}
	value = strings.TrimSpace(value)
	switch f.Kind() {
	case reflect.String:
		f.SetString(value)
		return nil
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || f.OverflowInt(n) {
			return &pipeline.FieldError{Field: name, Msg: fmt.Sprintf("want a whole number, got %q", value)}
		}
		f.SetInt(n)
		return nil
	case reflect.Float64:
		x, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return &pipeline.FieldError{Field: name, Msg: fmt.Sprintf("want a number, got %q", value)}
		}
		f.SetFloat(x)
		return nil
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return &pipeline.FieldError{Field: name, Msg: fmt.Sprintf("want true or false, got %q", value)}
		}
		f.SetBool(b)
		return nil
	}
	return &pipeline.FieldError{Field: name, Msg: "cannot be set from a form field"}
}

// fieldByJSONName finds a struct field by its JSON name, looking into
// embedded structs as encoding/json does (the outer field wins).
func fieldByJSONName(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	var embedded []reflect.Value
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			embedded = append(embedded, v.Field(i))
			continue
		}
		if tag, _, _ := strings.Cut(sf.Tag.Get("json"), ","); tag == name && sf.IsExported() {
			return v.Field(i), true
		}
	}
	for _, e := range embedded {
		if f, ok := fieldByJSONName(e, name); ok {
			return f, true
		}
	}
	return reflect.Value{}, false
}

// readOptionalJSON decodes an optional JSON body (promote, rollback) into
// dst; it answers the error itself and then returns false.
func readOptionalJSON(c *gin.Context, dst any) bool {
	if ct := c.GetHeader("Content-Type"); !isJSONType(ct) {
		jsonError(c, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Type %q: send application/json", ct))
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, workflowJSONMax))
	if err == nil {
		err = decodeStrict(bytes.NewReader(body), dst, true)
	}
	if err != nil {
		bodyFailed(c, err)
		return false
	}
	return true
}
