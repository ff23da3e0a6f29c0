package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sugarme/gotch"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

const (
	hookToken  = "s3cret-hook-token"
	hookBucket = "acme-finsight"
	hookQueue  = "finsight-test"
	generation = "1700000000123456"
)

// startCall is one ExecuteWorkflow the fake starter saw.
type startCall struct {
	opts     client.StartWorkflowOptions
	workflow interface{}
	args     []interface{}
}

// fakeStarter records the workflows the hook starts and answers with err
// when it is set.
type fakeStarter struct {
	mu    sync.Mutex
	calls []startCall
	err   error
}

func (f *fakeStarter) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, workflow interface{}, args ...interface{}) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, startCall{opts: opts, workflow: workflow, args: args})
	if f.err != nil {
		return nil, f.err
	}
	return fakeRun{id: opts.ID, runID: "run-" + opts.ID}, nil
}

func (f *fakeStarter) started() []startCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]startCall(nil), f.calls...)
}

// fakeRun is the run a fake start returns; only its ids are read.
type fakeRun struct {
	client.WorkflowRun
	id, runID string
}

func (r fakeRun) GetID() string    { return r.id }
func (r fakeRun) GetRunID() string { return r.runID }

// newHookServer serves an empty store with the GCS hook on
// gs://hookBucket/prefix.
func newHookServer(t *testing.T, prefix string) (http.Handler, *fakeStarter) {
	t.Helper()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(store, gotch.CPU)
	t.Cleanup(srv.Close)
	starter := &fakeStarter{}
	cfg := api.HookConfig{Token: hookToken, Bucket: hookBucket, Prefix: prefix, TaskQueue: hookQueue, Starter: starter}
	if err := srv.EnableGCSHook(cfg); err != nil {
		t.Fatal(err)
	}
	return srv.Handler(), starter
}

// objectResource is the JSON API resource of an object, as a JSON_API_V1
// notification carries it in its data.
func objectResource(bucket, name, gen string) map[string]any {
	esc := url.PathEscape(name)
	return map[string]any{
		"kind":                    "storage#object",
		"id":                      bucket + "/" + name + "/" + gen,
		"selfLink":                "https://www.googleapis.com/storage/v1/b/" + bucket + "/o/" + esc,
		"mediaLink":               "https://storage.googleapis.com/download/storage/v1/b/" + bucket + "/o/" + esc + "?generation=" + gen + "&alt=media",
		"name":                    name,
		"bucket":                  bucket,
		"generation":              gen,
		"metageneration":          "1",
		"contentType":             "text/csv",
		"storageClass":            "STANDARD",
		"size":                    "48213",
		"md5Hash":                 "1B2M2Y8AsgTpgAmY7PhCfg==",
		"crc32c":                  "AAAAAA==",
		"etag":                    "CMDg2vbM4IEDEAE=",
		"timeCreated":             "2024-03-01T09:30:12.345Z",
		"updated":                 "2024-03-01T09:30:12.345Z",
		"timeStorageClassUpdated": "2024-03-01T09:30:12.345Z",
	}
}

// pushEnvelope is the body Pub/Sub pushes for a Cloud Storage notification
// (https://cloud.google.com/pubsub/docs/push, https://cloud.google.com/storage/docs/pubsub-notifications):
// the attributes describe the event, the data is the object resource in
// base64, and the message id and publish time come in both spellings.
func pushEnvelope(bucket, object, event, gen string) map[string]any {
	data, err := json.Marshal(objectResource(bucket, object, gen))
	if err != nil {
		panic(err)
	}
	return map[string]any{
		"message": map[string]any{
			"attributes": map[string]any{
				"notificationConfig": "projects/_/buckets/" + bucket + "/notificationConfigs/7",
				"eventType":          event,
				"payloadFormat":      "JSON_API_V1",
				"bucketId":           bucket,
				"objectId":           object,
				"objectGeneration":   gen,
				"eventTime":          "2024-03-01T09:30:12.345678Z",
			},
			"data":         base64.StdEncoding.EncodeToString(data),
			"messageId":    "10394730129384756",
			"message_id":   "10394730129384756",
			"publishTime":  "2024-03-01T09:30:12.901Z",
			"publish_time": "2024-03-01T09:30:12.901Z",
		},
		"subscription": "projects/acme-prod/subscriptions/finsight-inbox-push",
	}
}

func attributes(env map[string]any) map[string]any {
	return env["message"].(map[string]any)["attributes"].(map[string]any)
}

func push(t *testing.T, h http.Handler, token string, env any) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return pushRaw(h, token, string(body))
}

func pushRaw(h http.Handler, token, body string) *httptest.ResponseRecorder {
	path := "/hooks/gcs"
	if token != "" {
		path += "?token=" + url.QueryEscape(token)
	}
	return do(h, http.MethodPost, path, body)
}

// expectedID is the hook's workflow id of one object generation, by the
// test's own arithmetic.
func expectedID(object, gen string) string {
	sum := sha256.Sum256([]byte(object + "#" + gen))
	return "inbox-hook-" + hex.EncodeToString(sum[:])[:16]
}

type hookAnswer struct {
	Started string `json:"started"`
	RunID   string `json:"run_id"`
	Key     string `json:"key"`
	Ignored string `json:"ignored"`
}

func answer(t *testing.T, rec *httptest.ResponseRecorder, status int) hookAnswer {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q, want JSON", ct)
	}
	var a hookAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body, err)
	}
	return a
}

// checkStart checks that call started one InboxScan of key under id.
func checkStart(t *testing.T, call startCall, id, key string) {
	t.Helper()
	if call.workflow != pipeline.InboxWorkflow {
		t.Errorf("workflow %v, want %s", call.workflow, pipeline.InboxWorkflow)
	}
	want := []interface{}{pipeline.InboxInput{Keys: []string{key}}}
	if !reflect.DeepEqual(call.args, want) {
		t.Errorf("args %#v, want %#v", call.args, want)
	}
	o := call.opts
	if o.ID != id || o.TaskQueue != hookQueue {
		t.Errorf("id %q on queue %q, want %q on %q", o.ID, o.TaskQueue, id, hookQueue)
	}
	if o.WorkflowIDConflictPolicy != enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING {
		t.Errorf("conflict policy %v, want USE_EXISTING", o.WorkflowIDConflictPolicy)
	}
	if o.WorkflowIDReusePolicy != enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY {
		t.Errorf("reuse policy %v, want ALLOW_DUPLICATE_FAILED_ONLY", o.WorkflowIDReusePolicy)
	}
}

func checkNoStart(t *testing.T, s *fakeStarter) {
	t.Helper()
	if calls := s.started(); len(calls) != 0 {
		t.Fatalf("%d workflows started, want none: %+v", len(calls), calls)
	}
}

func TestGCSHookStartsInboxScan(t *testing.T) {
	h, starter := newHookServer(t, "")
	const object = "inbox/NFLX/2024-03-01.csv"
	a := answer(t, push(t, h, hookToken, pushEnvelope(hookBucket, object, "OBJECT_FINALIZE", generation)), http.StatusAccepted)
	id := expectedID(object, generation)
	if a.Started != id || a.Key != object || a.RunID != "run-"+id {
		t.Errorf("answer %+v, want started %s, key %s", a, id, object)
	}
	calls := starter.started()
	if len(calls) != 1 {
		t.Fatalf("%d starts, want 1", len(calls))
	}
	checkStart(t, calls[0], id, object)
}

func TestGCSHookRedeliveryKeepsWorkflowID(t *testing.T) {
	h, starter := newHookServer(t, "")
	const object = "inbox/AAPL/q1.CSV" // the extension in any case
	env := pushEnvelope(hookBucket, object, "OBJECT_FINALIZE", generation)
	first := answer(t, push(t, h, hookToken, env), http.StatusAccepted)
	again := answer(t, push(t, h, hookToken, env), http.StatusAccepted)
	if first.Started != again.Started || first.Started != expectedID(object, generation) {
		t.Errorf("redelivery started %q after %q, want both %q", again.Started, first.Started, expectedID(object, generation))
	}
	// A new upload of the same name is a new generation: a new scan.
	newer := answer(t, push(t, h, hookToken, pushEnvelope(hookBucket, object, "OBJECT_FINALIZE", "1700000000999999")), http.StatusAccepted)
	if newer.Started == first.Started {
		t.Errorf("a new generation reused workflow id %s", first.Started)
	}
	calls := starter.started()
	if len(calls) != 3 {
		t.Fatalf("%d starts, want 3", len(calls))
	}
	checkStart(t, calls[0], first.Started, object)
	checkStart(t, calls[1], first.Started, object)
	checkStart(t, calls[2], newer.Started, object)
}

func TestGCSHookGenerationFromData(t *testing.T) {
	h, starter := newHookServer(t, "")
	const object = "inbox/NFLX/a.csv"
	env := pushEnvelope(hookBucket, object, "OBJECT_FINALIZE", generation)
	delete(attributes(env), "objectGeneration")
	a := answer(t, push(t, h, hookToken, env), http.StatusAccepted)
	if want := expectedID(object, generation); a.Started != want {
		t.Errorf("started %s, want %s (generation from the object resource)", a.Started, want)
	}
	// Neither the attributes nor the data: no way to tell a redelivery.
	env["message"].(map[string]any)["data"] = ""
	errorMessage(t, push(t, h, hookToken, env), http.StatusBadRequest)
	if n := len(starter.started()); n != 1 {
		t.Fatalf("%d starts, want 1", n)
	}
}

func TestGCSHookToken(t *testing.T) {
	h, starter := newHookServer(t, "")
	env := pushEnvelope(hookBucket, "inbox/NFLX/a.csv", "OBJECT_FINALIZE", generation)
	errorMessage(t, push(t, h, "", env), http.StatusUnauthorized)
	for _, bad := range []string{"wrong", hookToken + "x", strings.ToUpper(hookToken), hookToken[:len(hookToken)-1]} {
		errorMessage(t, push(t, h, bad, env), http.StatusForbidden)
	}
	// The token is checked before the body is read.
	errorMessage(t, pushRaw(h, "wrong", "{not json"), http.StatusForbidden)
	checkNoStart(t, starter)
}

func TestGCSHookOffWithoutConfig(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(store, gotch.CPU)
	t.Cleanup(srv.Close)
	env := pushEnvelope(hookBucket, "inbox/NFLX/a.csv", "OBJECT_FINALIZE", generation)
	msg := errorMessage(t, push(t, srv.Handler(), hookToken, env), http.StatusNotFound)
	if !strings.Contains(msg, "not configured") {
		t.Errorf("error %q does not say the hook is not configured", msg)
	}
	starter := &fakeStarter{}
	for _, cfg := range []api.HookConfig{
		{Bucket: hookBucket, TaskQueue: hookQueue, Starter: starter},
		{Token: hookToken, TaskQueue: hookQueue, Starter: starter},
		{Token: hookToken, Bucket: hookBucket, Starter: starter},
		{Token: hookToken, Bucket: hookBucket, TaskQueue: hookQueue},
	} {
		if err := srv.EnableGCSHook(cfg); err == nil {
			t.Errorf("EnableGCSHook(%+v) accepted an incomplete config", cfg)
		}
	}
	errorMessage(t, push(t, srv.Handler(), hookToken, env), http.StatusNotFound)
	checkNoStart(t, starter)
}

func TestGCSHookBadRequests(t *testing.T) {
	h, starter := newHookServer(t, "")
	good := func() map[string]any {
		return pushEnvelope(hookBucket, "inbox/NFLX/a.csv", "OBJECT_FINALIZE", generation)
	}
	without := func(attr string) string {
		env := good()
		delete(attributes(env), attr)
		b, _ := json.Marshal(env)
		return string(b)
	}
	noAttrs := good()
	delete(noAttrs["message"].(map[string]any), "attributes")
	noAttrsBody, _ := json.Marshal(noAttrs)
	badData := good()
	badData["message"].(map[string]any)["data"] = "%%% not base64 %%%"
	badDataBody, _ := json.Marshal(badData)
	for name, body := range map[string]string{
		"malformed JSON":       `{"message": {"attributes": {"bucketId": "acme-finsight"`,
		"not an object":        `["message"]`,
		"trailing garbage":     `{"message": {}} x`,
		"empty body":           ``,
		"no message":           `{"subscription": "projects/acme-prod/subscriptions/finsight-inbox-push"}`,
		"null message":         `{"message": null}`,
		"no attributes":        string(noAttrsBody),
		"no bucketId":          without("bucketId"),
		"no objectId":          without("objectId"),
		"no eventType":         without("eventType"),
		"data is not base64":   string(badDataBody),
		"attribute not string": `{"message": {"attributes": {"bucketId": 7, "objectId": "inbox/NFLX/a.csv", "eventType": "OBJECT_FINALIZE"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			errorMessage(t, pushRaw(h, hookToken, body), http.StatusBadRequest)
		})
	}
	checkNoStart(t, starter)
}

func TestGCSHookBodyTooLarge(t *testing.T) {
	h, starter := newHookServer(t, "")
	env := pushEnvelope(hookBucket, "inbox/NFLX/a.csv", "OBJECT_FINALIZE", generation)
	env["padding"] = strings.Repeat("x", 1<<20)
	errorMessage(t, push(t, h, hookToken, env), http.StatusRequestEntityTooLarge)
	checkNoStart(t, starter)
}

func TestGCSHookForeignBucket(t *testing.T) {
	h, starter := newHookServer(t, "")
	for _, event := range []string{"OBJECT_FINALIZE", "OBJECT_DELETE"} {
		msg := errorMessage(t, push(t, h, hookToken, pushEnvelope("someone-else", "inbox/NFLX/a.csv", event, generation)), http.StatusForbidden)
		if !strings.Contains(msg, "foreign bucket") {
			t.Errorf("error %q does not name the foreign bucket", msg)
		}
	}
	checkNoStart(t, starter)
}

func TestGCSHookIgnoresOtherEvents(t *testing.T) {
	h, starter := newHookServer(t, "")
	for _, event := range []string{"OBJECT_DELETE", "OBJECT_METADATA_UPDATE", "OBJECT_ARCHIVE", "SOMETHING_NEW"} {
		a := answer(t, push(t, h, hookToken, pushEnvelope(hookBucket, "inbox/NFLX/a.csv", event, generation)), http.StatusOK)
		if !strings.Contains(a.Ignored, event) {
			t.Errorf("%s: answer %+v does not say the event was ignored", event, a)
		}
	}
	checkNoStart(t, starter)
}

func TestGCSHookIgnoresObjectsOutsideInbox(t *testing.T) {
	h, starter := newHookServer(t, "")
	for _, object := range []string{
		"uploads/0a1b2c.csv",
		"inbox.csv",
		"inbox/a.csv",                   // no ticker folder
		"inbox/NFLX/",                   // the folder placeholder
		"inbox/NFLX/.csv",               // no name
		"inbox/NFLX/a.txt",              // not CSV
		"inbox/NFLX/a.csv.tmp",          // not CSV
		"inbox/NFLX/rejected/a.csv",     // handled files
		"inbox/NFLX/processed/a.csv",    // handled files
		"inbox/rejected/a.csv",          // an inbox-level rejected/ folder
		"inbox/Processed/a.csv",         // in any case
		"inbox/NF LX!/a.csv",            // not a ticker
		"inbox/NFLX/../registry/x.csv",  // climbs out
		"inbox/NFLX/.bloblock-a.csv",    // the store's own files
		"registry/inbox/NFLX/a.csv",     // inbox/ not at the root
		"prefix/inbox/NFLX/a.csv",       // a prefix the store does not have
		"Inbox/NFLX/a.csv",              // keys are case-sensitive
		"inbox//a.csv",                  // empty folder
		"inbox/NFLX/sub/dir/deeper.csv", // deeper
	} {
		a := answer(t, push(t, h, hookToken, pushEnvelope(hookBucket, object, "OBJECT_FINALIZE", generation)), http.StatusOK)
		if a.Ignored == "" || a.Started != "" {
			t.Errorf("%s: answer %+v, want ignored", object, a)
		}
	}
	checkNoStart(t, starter)
}

func TestGCSHookStorePrefix(t *testing.T) {
	h, starter := newHookServer(t, "/pre/") // slashes trimmed, as in gs://b/pre/
	for _, object := range []string{"inbox/NFLX/a.csv", "prefix/inbox/NFLX/a.csv", "pre", "pre/uploads/a.csv", "pre/pre/inbox/NFLX/a.csv"} {
		a := answer(t, push(t, h, hookToken, pushEnvelope(hookBucket, object, "OBJECT_FINALIZE", generation)), http.StatusOK)
		if a.Ignored == "" {
			t.Errorf("%s: answer %+v, want ignored outside the store prefix", object, a)
		}
	}
	checkNoStart(t, starter)

	const object = "pre/inbox/NFLX/a.csv"
	a := answer(t, push(t, h, hookToken, pushEnvelope(hookBucket, object, "OBJECT_FINALIZE", generation)), http.StatusAccepted)
	id := expectedID(object, generation) // of the object's full name
	if a.Key != "inbox/NFLX/a.csv" || a.Started != id {
		t.Errorf("answer %+v, want key inbox/NFLX/a.csv and id %s", a, id)
	}
	calls := starter.started()
	if len(calls) != 1 {
		t.Fatalf("%d starts, want 1", len(calls))
	}
	checkStart(t, calls[0], id, "inbox/NFLX/a.csv")
}

func TestGCSHookStarterDown(t *testing.T) {
	h, starter := newHookServer(t, "")
	starter.err = serviceerror.NewUnavailable("connection refused")
	rec := push(t, h, hookToken, pushEnvelope(hookBucket, "inbox/NFLX/a.csv", "OBJECT_FINALIZE", generation))
	msg := errorMessage(t, rec, http.StatusServiceUnavailable)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if !strings.Contains(msg, "connection refused") {
		t.Errorf("error %q hides the cause", msg)
	}
	starter.err = context.DeadlineExceeded
	errorMessage(t, push(t, h, hookToken, pushEnvelope(hookBucket, "inbox/NFLX/a.csv", "OBJECT_FINALIZE", generation)), http.StatusServiceUnavailable)
	if n := len(starter.started()); n != 2 {
		t.Fatalf("%d start attempts, want 2", n)
	}
}

func TestGCSHookScanAlreadyDone(t *testing.T) {
	h, starter := newHookServer(t, "")
	const object = "inbox/NFLX/a.csv"
	starter.err = serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "", "run-earlier")
	a := answer(t, push(t, h, hookToken, pushEnvelope(hookBucket, object, "OBJECT_FINALIZE", generation)), http.StatusAccepted)
	if a.Started != expectedID(object, generation) || a.RunID != "run-earlier" {
		t.Errorf("answer %+v, want the earlier scan acknowledged", a)
	}
	if n := len(starter.started()); n != 1 {
		t.Fatalf("%d start attempts, want 1", n)
	}
}
