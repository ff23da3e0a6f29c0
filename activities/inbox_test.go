package activities

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// signalCall is one SignalWithStartWorkflow the fake received.
type signalCall struct {
	WorkflowID string
	Signal     string
	Arg        any
	Options    client.StartWorkflowOptions
	Workflow   any
	Args       []any
}

// fakeSignaler records signal-with-start calls; with err set it fails them.
type fakeSignaler struct {
	mu    sync.Mutex
	calls []signalCall
	err   error
}

func (f *fakeSignaler) SignalWithStartWorkflow(_ context.Context, workflowID, signalName string, signalArg any,
	options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.calls = append(f.calls, signalCall{workflowID, signalName, signalArg, options, workflow, workflowArgs})
	return fakeRun{id: workflowID, runID: "run-1"}, nil
}

func (f *fakeSignaler) recorded() []signalCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signalCall(nil), f.calls...)
}

// fakeRun is the workflow run a fake signal-with-start returns.
type fakeRun struct{ id, runID string }

func (r fakeRun) GetID() string                  { return r.id }
func (r fakeRun) GetRunID() string               { return r.runID }
func (r fakeRun) GetFirstExecutionRunID() string { return r.runID }
func (r fakeRun) Get(context.Context, any) error { return nil }
func (r fakeRun) GetWithOptions(context.Context, any, client.WorkflowRunGetOptions) error {
	return nil
}

// inboxHarness is a local store, activities that hand off to a fake
// signaler, and a way to run the scan in a fresh activity environment.
type inboxHarness struct {
	t    *testing.T
	acts *Activities
	sig  *fakeSignaler
}

func newInboxHarness(t *testing.T) *inboxHarness {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sig := &fakeSignaler{}
	acts := New(store, gotch.CPU)
	acts.Temporal = sig
	return &inboxHarness{t: t, acts: acts, sig: sig}
}

// env returns a fresh activity environment: its first activity always gets
// the same run and activity id, as a retried attempt of one activity does.
func (h *inboxHarness) env() *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(h.acts)
	return env
}

func (h *inboxHarness) scan(in pipeline.InboxInput) (pipeline.InboxResult, error) {
	h.t.Helper()
	var out pipeline.InboxResult
	v, err := h.env().ExecuteActivity(h.acts.ScanInbox, in)
	if err != nil {
		return out, err
	}
	return out, v.Get(&out)
}

func (h *inboxHarness) mustScan(in pipeline.InboxInput) pipeline.InboxResult {
	h.t.Helper()
	out, err := h.scan(in)
	if err != nil {
		h.t.Fatalf("scan: %v", err)
	}
	return out
}

func (h *inboxHarness) put(key, body string) {
	h.t.Helper()
	if err := blob.PutBytes(context.Background(), h.acts.Store, key, []byte(body)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *inboxHarness) get(key string) (string, bool) {
	h.t.Helper()
	b, err := blob.GetBytes(context.Background(), h.acts.Store, key)
	if errors.Is(err, blob.ErrNotFound) {
		return "", false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b), true
}

func (h *inboxHarness) exists(key string) bool {
	_, ok := h.get(key)
	return ok
}

func (h *inboxHarness) claim(ticker, sha string) (inboxClaim, bool) {
	h.t.Helper()
	var c inboxClaim
	err := blob.GetJSON(context.Background(), h.acts.Store, claimsPrefix+ticker+"/"+sha+".json", &c)
	if errors.Is(err, blob.ErrNotFound) {
		return c, false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return c, true
}

func (h *inboxHarness) putClaim(ticker, sha string, c inboxClaim) {
	h.t.Helper()
	if err := blob.PutJSON(context.Background(), h.acts.Store, claimsPrefix+ticker+"/"+sha+".json", c); err != nil {
		h.t.Fatal(err)
	}
}

const inboxCSV = "Date,Open,High,Low,Close,Adj Close,Volume\n2022-01-03,605.61,609.99,590.56,597.37,597.37,3067500\n"

func TestScanInboxHandsANewFileOn(t *testing.T) {
	h := newInboxHarness(t)
	h.put("inbox/NFLX/a.csv", inboxCSV)
	sha := blob.ContentHash([]byte(inboxCSV))
	res := h.mustScan(pipeline.InboxInput{Device: "cuda", SearchAttributes: true})

	if len(res.HandedOff) != 1 || len(res.Duplicates) != 0 || len(res.Skipped) != 0 {
		t.Fatalf("result %+v: want one file handed off", res)
	}
	if f := res.HandedOff[0]; f.Key != "inbox/NFLX/a.csv" || f.Ticker != "NFLX" || f.SHA256 != sha {
		t.Fatalf("handed off %+v", f)
	}
	if got, ok := h.get(pipeline.UploadKey(sha)); !ok || got != inboxCSV {
		t.Fatalf("upload %s: present %v, bytes equal %v", pipeline.UploadKey(sha), ok, got == inboxCSV)
	}

	calls := h.sig.recorded()
	if len(calls) != 1 {
		t.Fatalf("%d signals, want 1", len(calls))
	}
	c := calls[0]
	if c.WorkflowID != "retrain-NFLX" || c.Signal != pipeline.NewDataSignal || c.Options.ID != "retrain-NFLX" {
		t.Fatalf("signal %q to %q (start id %q): want %q to retrain-NFLX", c.Signal, c.WorkflowID, c.Options.ID, pipeline.NewDataSignal)
	}
	if c.Options.TaskQueue == "" || c.Workflow != pipeline.TickerWorkflow {
		t.Fatalf("start options %+v workflow %v: want this worker's task queue and %s", c.Options, c.Workflow, pipeline.TickerWorkflow)
	}
	if len(c.Args) != 1 {
		t.Fatalf("workflow args %v", c.Args)
	}
	if in, ok := c.Args[0].(pipeline.TickerInput); !ok || in.Ticker != "NFLX" || in.Device != "cuda" || !in.SearchAttributes {
		t.Fatalf("workflow input %+v: want ticker NFLX with the scan's device and search attributes", c.Args[0])
	}
	d, ok := c.Arg.(pipeline.NewData)
	if !ok {
		t.Fatalf("signal argument %T, want pipeline.NewData", c.Arg)
	}
	if d.SHA256 != sha || d.CSVKey != pipeline.UploadKey(sha) || d.InboxKey != "inbox/NFLX/a.csv" || d.Name != "a.csv" || d.Source != "inbox" || d.Arrived.IsZero() {
		t.Fatalf("new data %+v", d)
	}

	cl, ok := h.claim("NFLX", sha)
	if !ok || !cl.HandedOff || cl.Key != "inbox/NFLX/a.csv" || cl.Workflow != "retrain-NFLX/run-1" || cl.Claimant == "" || cl.At.IsZero() {
		t.Fatalf("claim %+v (present %v): want handed off to retrain-NFLX/run-1", cl, ok)
	}
	if h.exists("inbox/NFLX/a.csv") {
		t.Fatal("the inbox file is still there")
	}
	if got, ok := h.get("inbox/NFLX/processed/" + sha[:12] + "_a.csv"); !ok || got != inboxCSV {
		t.Fatalf("processed copy present %v, same bytes %v", ok, got == inboxCSV)
	}

	// A second full scan finds nothing new: processed/ is passed over.
	if res := h.mustScan(pipeline.InboxInput{}); len(res.HandedOff)+len(res.Duplicates)+len(res.Skipped) != 0 {
		t.Fatalf("rescan: %+v, want nothing", res)
	}
	if n := len(h.sig.recorded()); n != 1 {
		t.Fatalf("%d signals after a rescan, want 1", n)
	}
}

func TestScanInboxSameBytesUnderAnotherNameAreADuplicate(t *testing.T) {
	h := newInboxHarness(t)
	sha := blob.ContentHash([]byte(inboxCSV))
	h.put("inbox/NFLX/a.csv", inboxCSV)
	h.mustScan(pipeline.InboxInput{})
	h.put("inbox/NFLX/b.csv", inboxCSV)
	res := h.mustScan(pipeline.InboxInput{})
	if len(res.Duplicates) != 1 || len(res.HandedOff) != 0 || res.Duplicates[0].Key != "inbox/NFLX/b.csv" || res.Duplicates[0].SHA256 != sha {
		t.Fatalf("result %+v: want b.csv as a duplicate", res)
	}
	if n := len(h.sig.recorded()); n != 1 {
		t.Fatalf("%d signals, want only the first file's", n)
	}
	if h.exists("inbox/NFLX/b.csv") || !h.exists("inbox/NFLX/processed/"+sha[:12]+"_b.csv") {
		t.Fatal("the duplicate was not moved to processed/")
	}
	if cl, _ := h.claim("NFLX", sha); cl.Key != "inbox/NFLX/a.csv" || !cl.HandedOff {
		t.Fatalf("claim %+v: the first file's claim should stand", cl)
	}
}

func TestScanInboxOneFileTwiceInOneScan(t *testing.T) {
	h := newInboxHarness(t)
	h.put("inbox/NFLX/a.csv", inboxCSV)
	h.put("inbox/NFLX/b.csv", inboxCSV)
	res := h.mustScan(pipeline.InboxInput{})
	if len(res.HandedOff) != 1 || len(res.Duplicates) != 1 || len(h.sig.recorded()) != 1 {
		t.Fatalf("result %+v with %d signals: want one hand-off and one duplicate", res, len(h.sig.recorded()))
	}
}

func TestScanInboxClaimOfAnotherScan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		age    time.Duration
		signal bool
	}{
		{"recent claim is left to its scan", 30 * time.Second, false},
		{"stale claim is taken over", 3 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newInboxHarness(t)
			sha := blob.ContentHash([]byte(inboxCSV))
			h.put("inbox/NFLX/a.csv", inboxCSV)
			h.putClaim("NFLX", sha, inboxClaim{Key: "inbox/NFLX/a.csv", Claimant: "other-run/7", At: time.Now().UTC().Add(-tc.age)})
			res := h.mustScan(pipeline.InboxInput{})
			calls := h.sig.recorded()
			cl, _ := h.claim("NFLX", sha)
			if !tc.signal {
				if len(calls) != 0 || len(res.HandedOff) != 0 || len(res.Skipped) != 1 {
					t.Fatalf("result %+v with %d signals: want the file skipped", res, len(calls))
				}
				if !strings.Contains(res.Skipped[0].Note, "other-run/7") {
					t.Fatalf("skip note %q does not name the other scan", res.Skipped[0].Note)
				}
				if !h.exists("inbox/NFLX/a.csv") {
					t.Fatal("a file another scan is handing on was moved")
				}
				if cl.HandedOff || cl.Claimant != "other-run/7" {
					t.Fatalf("claim %+v was changed", cl)
				}
				return
			}
			if len(calls) != 1 || len(res.HandedOff) != 1 {
				t.Fatalf("result %+v with %d signals: want the stale claim taken over", res, len(calls))
			}
			if !cl.HandedOff || cl.Claimant == "other-run/7" {
				t.Fatalf("claim %+v: want handed off by this scan", cl)
			}
			if h.exists("inbox/NFLX/a.csv") {
				t.Fatal("the file was not moved to processed/")
			}
		})
	}
}

func TestScanInboxSignallerErrorLeavesTheClaimForARetry(t *testing.T) {
	h := newInboxHarness(t)
	sha := blob.ContentHash([]byte(inboxCSV))
	h.put("inbox/NFLX/a.csv", inboxCSV)
	h.sig.err = errors.New("frontend unavailable")
	if _, err := h.scan(pipeline.InboxInput{}); err == nil || !strings.Contains(err.Error(), "frontend unavailable") {
		t.Fatalf("scan error %v: want the signal error", err)
	}
	first, ok := h.claim("NFLX", sha)
	if !ok || first.HandedOff || first.Claimant == "" {
		t.Fatalf("claim %+v (present %v): want it written and not handed off", first, ok)
	}
	if !h.exists("inbox/NFLX/a.csv") || h.exists("inbox/NFLX/processed/"+sha[:12]+"_a.csv") {
		t.Fatal("a file that was not handed on was moved")
	}

	// A retried attempt (same run and activity id: a fresh environment's
	// first activity) finishes the hand-off.
	h.sig.err = nil
	res := h.mustScan(pipeline.InboxInput{})
	if len(res.HandedOff) != 1 || len(h.sig.recorded()) != 1 {
		t.Fatalf("retry: %+v with %d signals, want the file handed off", res, len(h.sig.recorded()))
	}
	after, _ := h.claim("NFLX", sha)
	if after.Claimant != first.Claimant {
		t.Fatalf("test setup: the retry's claimant %q differs from %q", after.Claimant, first.Claimant)
	}
	if !after.HandedOff || h.exists("inbox/NFLX/a.csv") {
		t.Fatalf("claim %+v after the retry: want handed off and the file moved", after)
	}
}

func TestScanInboxClaimOfTheSameClaimantIsTaken(t *testing.T) {
	h := newInboxHarness(t)
	// Learn this environment's claimant from another file.
	h.put("inbox/NFLX/probe.csv", inboxCSV)
	h.mustScan(pipeline.InboxInput{})
	probe, _ := h.claim("NFLX", blob.ContentHash([]byte(inboxCSV)))
	if probe.Claimant == "" {
		t.Fatal("no claimant recorded")
	}
	body := inboxCSV + "2022-01-04,599.91,600.41,581.60,591.15,591.15,4393100\n"
	sha := blob.ContentHash([]byte(body))
	h.put("inbox/NFLX/a.csv", body)
	h.putClaim("NFLX", sha, inboxClaim{Key: "inbox/NFLX/a.csv", Claimant: probe.Claimant, At: time.Now().UTC()})
	res := h.mustScan(pipeline.InboxInput{})
	if len(res.HandedOff) != 1 || res.HandedOff[0].SHA256 != sha || len(h.sig.recorded()) != 2 {
		t.Fatalf("result %+v with %d signals: want a recent claim of the same claimant taken", res, len(h.sig.recorded()))
	}
}

func TestScanInboxIgnoresWhatIsNotAnInboxFile(t *testing.T) {
	h := newInboxHarness(t)
	for _, k := range []string{
		"inbox/NFLX/processed/0123456789ab_old.csv",
		"inbox/NFLX/rejected/bad.csv",
		"inbox/NFLX/rejected/bad.csv.reason.json",
		"inbox/NFLX/notes.txt",
		"inbox/b@d/a.csv",
		"inbox/a.csv",
		"inbox/NFLX/deep/er/a.csv",
	} {
		h.put(k, inboxCSV)
	}
	res := h.mustScan(pipeline.InboxInput{})
	if len(res.HandedOff)+len(res.Duplicates) != 0 || len(h.sig.recorded()) != 0 {
		t.Fatalf("result %+v with %d signals: want nothing handed on", res, len(h.sig.recorded()))
	}
	if !h.exists("inbox/NFLX/rejected/bad.csv") || !h.exists("inbox/NFLX/notes.txt") || !h.exists("inbox/b@d/a.csv") {
		t.Fatal("an ignored file was moved")
	}
	// Named explicitly, each is reported as skipped.
	keys := []string{"inbox/NFLX/rejected/bad.csv", "inbox/NFLX/notes.txt", "inbox/b@d/a.csv", "inbox/a.csv"}
	res = h.mustScan(pipeline.InboxInput{Keys: keys})
	if len(res.Skipped) != len(keys) || len(res.HandedOff) != 0 || len(h.sig.recorded()) != 0 {
		t.Fatalf("explicit keys: %+v, want all %d skipped", res, len(keys))
	}
	if n, _ := h.acts.Store.List(context.Background(), "uploads/"); len(n) != 0 {
		t.Fatalf("ignored files were uploaded: %v", n)
	}
}

func TestScanInboxLowerCaseFolderIsItsTicker(t *testing.T) {
	h := newInboxHarness(t)
	h.put("inbox/nflx/a.csv", inboxCSV)
	res := h.mustScan(pipeline.InboxInput{})
	calls := h.sig.recorded()
	if len(res.HandedOff) != 1 || len(calls) != 1 || calls[0].WorkflowID != "retrain-NFLX" {
		t.Fatalf("result %+v, signals %+v: want a hand-off to retrain-NFLX", res, calls)
	}
}

func TestScanInboxExplicitKeys(t *testing.T) {
	h := newInboxHarness(t)
	other := inboxCSV + "2022-01-04,599.91,600.41,581.60,591.15,591.15,4393100\n"
	h.put("inbox/NFLX/a.csv", inboxCSV)
	h.put("inbox/NFLX/b.csv", other)
	res := h.mustScan(pipeline.InboxInput{Keys: []string{"inbox/NFLX/b.csv", "inbox/NFLX/gone.csv"}})
	if len(res.HandedOff) != 1 || res.HandedOff[0].Key != "inbox/NFLX/b.csv" {
		t.Fatalf("handed off %+v: want only b.csv", res.HandedOff)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Key != "inbox/NFLX/gone.csv" || !strings.HasPrefix(res.Skipped[0].Note, "gone") {
		t.Fatalf("skipped %+v: want gone.csv skipped as gone", res.Skipped)
	}
	if calls := h.sig.recorded(); len(calls) != 1 || calls[0].Arg.(pipeline.NewData).Name != "b.csv" {
		t.Fatalf("signals %+v: want b.csv only", calls)
	}
	if !h.exists("inbox/NFLX/a.csv") {
		t.Fatal("a file not named was touched")
	}
}

func TestScanInboxWithoutTemporalClient(t *testing.T) {
	h := newInboxHarness(t)
	h.acts.Temporal = nil
	h.put("inbox/NFLX/a.csv", inboxCSV)
	_, err := h.scan(pipeline.InboxInput{})
	assertAppError(t, err, steps.ErrInvalidParams)
	if !h.exists("inbox/NFLX/a.csv") {
		t.Fatal("the file was moved")
	}
}

type reasonFile struct {
	File     string    `json:"file"`
	SHA256   string    `json:"sha256"`
	Reason   string    `json:"reason"`
	Rejected time.Time `json:"rejected_at"`
}

func TestRejectFilesMovesToRejectedWithTheReason(t *testing.T) {
	h := newInboxHarness(t)
	other := inboxCSV + "2022-01-04,599.91,600.41,581.60,591.15,591.15,4393100\n"
	shaA, shaB := blob.ContentHash([]byte(inboxCSV)), blob.ContentHash([]byte(other))
	// a.csv was handed on (in processed/); b.csv had not been moved yet.
	h.put("inbox/NFLX/processed/"+shaA[:12]+"_a.csv", inboxCSV)
	h.put("inbox/NFLX/b.csv", other)
	h.put(pipeline.UploadKey("f00d"), "starter file")
	in := steps.RejectInput{
		Files: []pipeline.NewData{
			{SHA256: shaA, Name: "a.csv", InboxKey: "inbox/NFLX/a.csv", CSVKey: pipeline.UploadKey(shaA)},
			{SHA256: shaB, Name: "b.csv", InboxKey: "inbox/NFLX/b.csv", CSVKey: pipeline.UploadKey(shaB)},
			{SHA256: "f00d", Name: "starter.csv", CSVKey: pipeline.UploadKey("f00d"), Source: "starter"},
		},
		Why: []pipeline.FileOutcome{
			{SHA256: shaB, Reason: "no new day"},
			{SHA256: shaA, Reason: "conflicts with days already present"},
		},
	}
	var out steps.RejectResult
	v, err := h.env().ExecuteActivity(h.acts.RejectFiles, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{shaA: "inbox/NFLX/rejected/a.csv", shaB: "inbox/NFLX/rejected/b.csv"}
	if len(out.Moved) != 2 || out.Moved[shaA] != want[shaA] || out.Moved[shaB] != want[shaB] {
		t.Fatalf("moved %v, want %v", out.Moved, want)
	}
	for _, tc := range []struct {
		name, sha, body, reason, gone string
	}{
		{"a.csv", shaA, inboxCSV, "conflicts with days already present", "inbox/NFLX/processed/" + shaA[:12] + "_a.csv"},
		{"b.csv", shaB, other, "no new day", "inbox/NFLX/b.csv"},
	} {
		dst := "inbox/NFLX/rejected/" + tc.name
		if got, ok := h.get(dst); !ok || got != tc.body {
			t.Errorf("%s: present %v, same bytes %v", dst, ok, got == tc.body)
		}
		if h.exists(tc.gone) {
			t.Errorf("%s is still there", tc.gone)
		}
		raw, ok := h.get(dst + ".reason.json")
		if !ok {
			t.Errorf("%s.reason.json missing", dst)
			continue
		}
		var r reasonFile
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatal(err)
		}
		if r.File != tc.name || r.SHA256 != tc.sha || r.Reason != tc.reason || r.Rejected.IsZero() {
			t.Errorf("%s reason %+v, want file %s reason %q", dst, r, tc.name, tc.reason)
		}
	}
	if !h.exists(pipeline.UploadKey("f00d")) {
		t.Fatal("a file that did not come from the inbox was touched")
	}
	if keys, _ := h.acts.Store.List(context.Background(), "inbox/NFLX/rejected/"); len(keys) != 4 {
		t.Fatalf("rejected/ holds %v, want the two files and their reasons", keys)
	}
}

// A corrected file dropped under the rejected file's name while the retrain
// ran is not swept into rejected/: it stays in the inbox for the next scan.
func TestRejectFilesLeavesACorrectedFileOfTheSameName(t *testing.T) {
	h := newInboxHarness(t)
	corrected := inboxCSV + "2022-01-04,599.91,600.41,581.60,591.15,591.15,4393100\n"
	sha := blob.ContentHash([]byte(inboxCSV))
	h.put("inbox/NFLX/processed/"+sha[:12]+"_a.csv", inboxCSV)
	h.put("inbox/NFLX/a.csv", corrected)
	in := steps.RejectInput{Files: []pipeline.NewData{{SHA256: sha, Name: "a.csv", InboxKey: "inbox/NFLX/a.csv"}},
		Why: []pipeline.FileOutcome{{SHA256: sha, Reason: "no new day"}}}
	if _, err := h.env().ExecuteActivity(h.acts.RejectFiles, in); err != nil {
		t.Fatal(err)
	}
	if got, ok := h.get("inbox/NFLX/a.csv"); !ok || got != corrected {
		t.Fatalf("the corrected a.csv was moved or changed (present %v)", ok)
	}
	if got, ok := h.get("inbox/NFLX/rejected/a.csv"); !ok || got != inboxCSV {
		t.Fatalf("rejected/a.csv is not the rejected content (present %v)", ok)
	}
}
