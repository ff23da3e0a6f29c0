package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// ---- a fake RetrainingPipeline ---------------------------------------------

// childTime is how long each fake retrain takes.
const childTime = 10 * time.Minute

// fakeRetrains stands in for RetrainingPipeline: it records each child's
// workflow id and input, takes childTime and fails when its batch holds a
// file in fail.
type fakeRetrains struct {
	ids    []string
	inputs []pipeline.RetrainingInput
	fail   map[string]string // SHA256 → error message
}

func (f *fakeRetrains) run(ctx workflow.Context, in pipeline.RetrainingInput) (pipeline.RetrainingResult, error) {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	f.ids, f.inputs = append(f.ids, id), append(f.inputs, in)
	n := len(f.inputs)
	if err := workflow.Sleep(ctx, childTime); err != nil {
		return pipeline.RetrainingResult{}, err
	}
	for _, d := range in.Files {
		if msg, ok := f.fail[d.SHA256]; ok {
			return pipeline.RetrainingResult{}, temporal.NewNonRetryableApplicationError(msg, "StepFailed", nil)
		}
	}
	return pipeline.RetrainingResult{WorkflowID: id, Ticker: in.Ticker, Mode: pipeline.ModeFinetune, ModelVersion: 10 + n,
		Promotion: pipeline.Promotion{Promoted: true}}, nil
}

// batches are the SHA256s of each child's files, in the order the children ran.
func (f *fakeRetrains) batches() [][]string {
	var out [][]string
	for _, in := range f.inputs {
		out = append(out, shasOf(in.Files))
	}
	return out
}

func shasOf(files []pipeline.NewData) []string {
	out := []string{}
	for _, d := range files {
		out = append(out, d.SHA256)
	}
	return out
}

// tickerEnv is a test environment with the fake retrain as the child.
func tickerEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fakeRetrains) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := &fakeRetrains{fail: map[string]string{}}
	env.RegisterWorkflowWithOptions(f.run, workflow.RegisterOptions{Name: pipeline.RetrainingWorkflow})
	env.RegisterWorkflowWithOptions(TickerRetrainer, workflow.RegisterOptions{Name: pipeline.TickerWorkflow})
	return env, f
}

// data is a new file named name whose content hash is sha.
func newData(sha string) pipeline.NewData {
	return pipeline.NewData{CSVKey: "uploads/" + sha + ".csv", SHA256: sha, Source: "inbox", Name: sha + ".csv"}
}

// signalAt sends each of ds as a new-data signal at workflow time at.
func signalAt(env *testsuite.TestWorkflowEnvironment, at time.Duration, ds ...pipeline.NewData) {
	env.RegisterDelayedCallback(func() {
		for _, d := range ds {
			env.SignalWorkflow(pipeline.NewDataSignal, d)
		}
	}, at)
}

// statusAt queries the status at workflow time at into *got.
func queryStatusAt(t *testing.T, env *testsuite.TestWorkflowEnvironment, at time.Duration, got *pipeline.TickerStatus) {
	env.RegisterDelayedCallback(func() { *got = queryStatus(t, env) }, at)
}

func queryStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) pipeline.TickerStatus {
	t.Helper()
	v, err := env.QueryWorkflow(pipeline.StatusQuery)
	if err != nil {
		t.Fatalf("status query: %v", err)
	}
	var st pipeline.TickerStatus
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// runTicker runs a TickerRetrainer for NFLX (idle after an hour unless in
// says otherwise) and returns its error.
func runTicker(env *testsuite.TestWorkflowEnvironment, in pipeline.TickerInput) error {
	if in.Ticker == "" {
		in.Ticker = "nflx"
	}
	if in.IdleTimeout == 0 {
		in.IdleTimeout = time.Hour
	}
	env.ExecuteWorkflow(TickerRetrainer, in)
	if !env.IsWorkflowCompleted() {
		return errors.New("ticker workflow did not complete")
	}
	return env.GetWorkflowError()
}

// expectedID is the child id of a batch, computed independently of the workflow.
func expectedID(ticker string, batch ...string) string {
	h := sha256.Sum256([]byte(strings.Join(batch, "")))
	return "retrain-" + ticker + "-" + hex.EncodeToString(h[:])[:12]
}

// retrained are the outcomes of real retrains (not duplicates).
func doneRetrains(done []pipeline.RetrainOutcome) []pipeline.RetrainOutcome {
	var out []pipeline.RetrainOutcome
	for _, o := range done {
		if o.WorkflowID != "" {
			out = append(out, o)
		}
	}
	return out
}

func doneDuplicates(done []pipeline.RetrainOutcome) []pipeline.RetrainOutcome {
	var out []pipeline.RetrainOutcome
	for _, o := range done {
		if o.WorkflowID == "" {
			out = append(out, o)
		}
	}
	return out
}

// ---- TickerRetrainer -------------------------------------------------------

func TestTickerCoalescesFilesThatArriveDuringARetrain(t *testing.T) {
	env, f := tickerEnv(t)
	signalAt(env, 0, newData("aaa"))
	signalAt(env, 2*time.Minute, newData("bbb"))
	signalAt(env, 4*time.Minute, newData("ccc"))
	var during pipeline.TickerStatus
	queryStatusAt(t, env, 5*time.Minute, &during)

	if err := runTicker(env, pipeline.TickerInput{}); err != nil {
		t.Fatalf("ticker workflow failed: %v", err)
	}
	if want := [][]string{{"aaa"}, {"bbb", "ccc"}}; !reflect.DeepEqual(f.batches(), want) {
		t.Fatalf("children retrained %v, want %v", f.batches(), want)
	}
	for _, in := range f.inputs {
		if in.Ticker != "NFLX" {
			t.Fatalf("child ticker %q, want NFLX", in.Ticker)
		}
	}

	if during.Running == nil || !reflect.DeepEqual(shasOf(during.Running.Files), []string{"aaa"}) || during.Running.WorkflowID != f.ids[0] {
		t.Fatalf("status while A runs: running %+v", during.Running)
	}
	if !reflect.DeepEqual(shasOf(during.Queue), []string{"bbb", "ccc"}) || during.Seq != 1 || len(during.Done) != 0 {
		t.Fatalf("status while A runs: queue %v seq %d done %v", shasOf(during.Queue), during.Seq, during.Done)
	}

	after := queryStatus(t, env)
	if after.Running != nil || len(after.Queue) != 0 || after.Seq != 2 || after.Ticker != "NFLX" {
		t.Fatalf("final status: running %+v queue %v seq %d ticker %q", after.Running, after.Queue, after.Seq, after.Ticker)
	}
	if len(after.Done) != 2 || !reflect.DeepEqual(after.Done[0].Files, []string{"aaa"}) || !reflect.DeepEqual(after.Done[1].Files, []string{"bbb", "ccc"}) {
		t.Fatalf("done = %+v, want [aaa] then [bbb ccc]", after.Done)
	}
	if !reflect.DeepEqual(after.Done[1].Names, []string{"bbb.csv", "ccc.csv"}) || after.Done[1].Version != 12 || !after.Done[1].Promoted || after.Done[1].Mode != pipeline.ModeFinetune {
		t.Fatalf("second outcome = %+v", after.Done[1])
	}
	if after.Last == nil || after.Last.ModelVersion != 12 {
		t.Fatalf("last result = %+v, want the second retrain's", after.Last)
	}
}

func TestTickerDropsContentItHasSeen(t *testing.T) {
	env, f := tickerEnv(t)
	signalAt(env, 0, newData("aaa"))
	signalAt(env, 2*time.Minute, newData("aaa")) // while it is being retrained
	signalAt(env, 3*time.Minute, newData("bbb"))
	signalAt(env, 4*time.Minute, newData("bbb")) // while it is queued
	signalAt(env, 30*time.Minute, newData("aaa"), newData("bbb"))
	if err := runTicker(env, pipeline.TickerInput{}); err != nil {
		t.Fatalf("ticker workflow failed: %v", err)
	}
	if want := [][]string{{"aaa"}, {"bbb"}}; !reflect.DeepEqual(f.batches(), want) {
		t.Fatalf("children retrained %v, want %v", f.batches(), want)
	}
	st := queryStatus(t, env)
	if len(doneRetrains(st.Done)) != 2 {
		t.Fatalf("done = %+v, want two retrains", st.Done)
	}
	dups := doneDuplicates(st.Done)
	wantWhere := []struct{ sha, where string }{
		{"aaa", "being retrained by " + f.ids[0]},
		{"bbb", "queued"},
		{"aaa", "retrained by " + f.ids[0]},
		{"bbb", "retrained by " + f.ids[1]},
	}
	if len(dups) != len(wantWhere) {
		t.Fatalf("duplicates = %+v, want %d", dups, len(wantWhere))
	}
	for i, w := range wantWhere {
		d := dups[i]
		if !reflect.DeepEqual(d.Files, []string{w.sha}) || d.WorkflowID != "" || !strings.HasPrefix(d.Error, "duplicate") || !strings.HasSuffix(d.Error, " "+w.where) {
			t.Fatalf("duplicate %d = %+v, want %s %q", i, d, w.sha, w.where)
		}
		if !reflect.DeepEqual(d.Names, []string{w.sha + ".csv"}) || d.Finished.IsZero() {
			t.Fatalf("duplicate %d = %+v", i, d)
		}
	}
	if st.Seq != 2 {
		t.Fatalf("seq = %d, want 2", st.Seq)
	}
}

func TestTickerContinuesAsNewWithoutLosingSignals(t *testing.T) {
	env, f := tickerEnv(t)
	// aaa runs 0-10m, bbb 10-20m; ccc and ddd queue up while bbb runs, and
	// the third retrain is the one past MaxRunsPerHistory. (Each test signal
	// is its own workflow task, so a signal sent after the continue-as-new
	// would be dropped by the test environment; a real server refuses to
	// close a run while a signal is pending.)
	signalAt(env, 0, newData("aaa"))
	signalAt(env, 5*time.Minute, newData("bbb"))
	signalAt(env, 12*time.Minute, newData("ccc"))
	signalAt(env, 15*time.Minute, newData("ddd"))
	signalAt(env, 16*time.Minute, newData("aaa")) // a duplicate, carried in Done
	in := pipeline.TickerInput{MaxRunsPerHistory: 2, IdleTimeout: time.Hour, Device: "cuda", SearchAttributes: true}
	err := runTicker(env, in)

	if !workflow.IsContinueAsNewError(err) {
		t.Fatalf("error = %v, want continue-as-new", err)
	}
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("error %v is not a *ContinueAsNewError", err)
	}
	if can.WorkflowType == nil || can.WorkflowType.Name != pipeline.TickerWorkflow {
		t.Fatalf("continues as %+v, want %s", can.WorkflowType, pipeline.TickerWorkflow)
	}
	var next pipeline.TickerInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatalf("decode the continued input: %v", err)
	}
	if want := [][]string{{"aaa"}, {"bbb"}}; !reflect.DeepEqual(f.batches(), want) {
		t.Fatalf("children before continuing %v, want %v", f.batches(), want)
	}
	if !reflect.DeepEqual(shasOf(next.Queue), []string{"ccc", "ddd"}) {
		t.Fatalf("carried queue %v, want [ccc ddd]", shasOf(next.Queue))
	}
	if next.Seq != 2 || len(next.Done) != 3 || next.Done[0].WorkflowID != f.ids[0] || next.Done[1].WorkflowID != "" || next.Done[2].WorkflowID != f.ids[1] {
		t.Fatalf("carried seq %d done %+v", next.Seq, next.Done)
	}
	if next.Ticker != "NFLX" || next.MaxRunsPerHistory != 2 || next.IdleTimeout != time.Hour || next.Device != "cuda" || !next.SearchAttributes {
		t.Fatalf("carried settings = %+v", next)
	}
	if next.Last == nil || next.Last.ModelVersion != 12 {
		t.Fatalf("carried last = %+v", next.Last)
	}
	for _, in := range f.inputs {
		if in.Device != "cuda" || !in.SearchAttributes {
			t.Fatalf("child input %+v lost the device or search attributes", in)
		}
	}

	// The next run starts with the carried queue and still knows what ran.
	env2, f2 := tickerEnv(t)
	signalAt(env2, time.Minute, newData("aaa"))
	if err := runTicker(env2, next); err != nil {
		t.Fatalf("continued run failed: %v", err)
	}
	if want := [][]string{{"ccc", "ddd"}}; !reflect.DeepEqual(f2.batches(), want) {
		t.Fatalf("continued run retrained %v, want %v", f2.batches(), want)
	}
	st := queryStatus(t, env2)
	if st.Seq != 3 || len(st.Done) != 5 || !strings.HasPrefix(st.Done[3].Error, "duplicate") || st.Done[3].WorkflowID != "" || st.Done[4].WorkflowID != expectedID("NFLX", "ccc", "ddd") {
		t.Fatalf("continued status: seq %d done %+v", st.Seq, st.Done)
	}
}

func TestTickerEndsWhenIdle(t *testing.T) {
	env, f := tickerEnv(t)
	signalAt(env, 0, newData("aaa"))
	start := env.Now()
	if err := runTicker(env, pipeline.TickerInput{IdleTimeout: time.Hour}); err != nil {
		t.Fatalf("idle ticker workflow ended with %v, want nil", err)
	}
	if len(f.inputs) != 1 {
		t.Fatalf("children = %v", f.batches())
	}
	if took := env.Now().Sub(start); took < childTime+time.Hour || took > childTime+time.Hour+time.Minute {
		t.Fatalf("workflow ended after %v, want the retrain then an idle hour", took)
	}
}

func TestTickerWithNothingToDoEndsAfterTheIdleTimeout(t *testing.T) {
	env, f := tickerEnv(t)
	if err := runTicker(env, pipeline.TickerInput{IdleTimeout: 2 * time.Hour}); err != nil {
		t.Fatalf("ticker workflow ended with %v", err)
	}
	if len(f.inputs) != 0 {
		t.Fatalf("children ran with nothing queued: %v", f.batches())
	}
}

func TestTickerRecordsAFailedRetrainAndGoesOn(t *testing.T) {
	env, f := tickerEnv(t)
	f.fail["bad"] = "merge failed: disk full"
	signalAt(env, 0, newData("bad"))
	signalAt(env, 2*time.Minute, newData("good"))
	if err := runTicker(env, pipeline.TickerInput{}); err != nil {
		t.Fatalf("a failed child failed the ticker workflow: %v", err)
	}
	if want := [][]string{{"bad"}, {"good"}}; !reflect.DeepEqual(f.batches(), want) {
		t.Fatalf("children %v, want %v", f.batches(), want)
	}
	st := queryStatus(t, env)
	if len(st.Done) != 2 {
		t.Fatalf("done = %+v", st.Done)
	}
	failed, ok := st.Done[0], st.Done[1]
	if failed.WorkflowID != f.ids[0] || !strings.Contains(failed.Error, "disk full") || failed.Version != 0 || failed.Promoted {
		t.Fatalf("failed outcome = %+v", failed)
	}
	if ok.Error != "" || ok.Version != 12 || st.Last == nil || st.Last.ModelVersion != 12 {
		t.Fatalf("next outcome = %+v, last %+v", ok, st.Last)
	}
}

func TestTickerNamesChildrenByContent(t *testing.T) {
	env, f := tickerEnv(t)
	signalAt(env, 0, newData("aaa"))
	signalAt(env, time.Minute, newData("bbb"), newData("ccc"))
	if err := runTicker(env, pipeline.TickerInput{Ticker: "brk.b"}); err != nil {
		t.Fatal(err)
	}
	want := []string{expectedID("BRK.B", "aaa"), expectedID("BRK.B", "bbb", "ccc")}
	if !reflect.DeepEqual(f.ids, want) {
		t.Fatalf("child ids %v, want %v", f.ids, want)
	}
	st := queryStatus(t, env)
	if len(st.Done) != 2 || st.Done[0].WorkflowID != want[0] || st.Done[1].WorkflowID != want[1] {
		t.Fatalf("done = %+v", st.Done)
	}
	// The same content in another order is another batch.
	if expectedID("BRK.B", "ccc", "bbb") == want[1] {
		t.Fatal("test ids do not depend on order")
	}
}

func TestTickerRunsABatchWithItsNewestOptions(t *testing.T) {
	env, f := tickerEnv(t)
	b, c, d := newData("bbb"), newData("ccc"), newData("ddd")
	b.Options = pipeline.RetrainOptions{Mode: pipeline.ModeFull, Epochs: 9}
	c.Options = pipeline.RetrainOptions{Mode: pipeline.ModeAuto, DriftThreshold: 0.3}
	signalAt(env, 0, newData("aaa"))
	signalAt(env, time.Minute, b)
	signalAt(env, 2*time.Minute, c)
	signalAt(env, 3*time.Minute, d) // sets none: the batch keeps c's
	if err := runTicker(env, pipeline.TickerInput{}); err != nil {
		t.Fatal(err)
	}
	if len(f.inputs) != 2 {
		t.Fatalf("children %v", f.batches())
	}
	if f.inputs[0].Options != (pipeline.RetrainOptions{}) {
		t.Fatalf("first child options %+v, want none", f.inputs[0].Options)
	}
	if f.inputs[1].Options != c.Options {
		t.Fatalf("second child options %+v, want the newest set ones %+v", f.inputs[1].Options, c.Options)
	}
}

func TestTickerRejectsABadTicker(t *testing.T) {
	env, f := tickerEnv(t)
	err := runTicker(env, pipeline.TickerInput{Ticker: "../x"})
	if appErrorType(err) != steps.ErrInvalidParams || len(f.inputs) != 0 {
		t.Fatalf("error = %v, children %d", err, len(f.inputs))
	}
}

// ---- InboxScan and RefreshTicker ------------------------------------------

func inboxEnv() *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	return env
}

func TestInboxScanReturnsWhatTheScanDid(t *testing.T) {
	env := inboxEnv()
	want := pipeline.InboxResult{HandedOff: []pipeline.InboxFile{{Key: "inbox/NFLX/a.csv", Ticker: "NFLX", SHA256: "aaa"}}}
	var got pipeline.InboxInput
	env.OnActivity(steps.ScanInbox, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		got = args.Get(1).(pipeline.InboxInput)
	}).Return(want, nil)
	in := pipeline.InboxInput{Keys: []string{"inbox/NFLX/a.csv"}, Device: "cuda"}
	env.ExecuteWorkflow(InboxScan, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res pipeline.InboxResult
	if err := env.GetWorkflowResult(&res); err != nil || !reflect.DeepEqual(res, want) {
		t.Fatalf("result %+v (%v), want %+v", res, err, want)
	}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("ScanInbox got %+v, want %+v", got, in)
	}
}

func TestInboxScanFailsWhenTheScanFails(t *testing.T) {
	env := inboxEnv()
	env.OnActivity(steps.ScanInbox, mock.Anything, mock.Anything).
		Return(pipeline.InboxResult{}, temporal.NewNonRetryableApplicationError("list inbox/: access denied", steps.ErrInvalidParams, nil))
	env.ExecuteWorkflow(InboxScan, pipeline.InboxInput{})
	err := env.GetWorkflowError()
	if err == nil || appErrorType(err) != steps.ErrInvalidParams || !strings.Contains(err.Error(), "scan failed: list inbox/: access denied") {
		t.Fatalf("error = %v, want the scan's failure", err)
	}
}

// refreshToday is the day the refresh tests run on.
var refreshToday = time.Date(2024, 7, 3, 15, 0, 0, 0, time.UTC)

// refreshEnv mocks ResolveBase (the base's data ends lastDate), Download
// (download) and HandOff; it returns the inputs Download and HandOff got.
func refreshEnv(t *testing.T, lastDate string, download func(context.Context, steps.DownloadInput) (steps.DownloadResult, error)) (*testsuite.TestWorkflowEnvironment, *[]steps.DownloadInput, *[]steps.HandOffInput) {
	t.Helper()
	env := inboxEnv()
	env.SetStartTime(refreshToday)
	downloads, handoffs := &[]steps.DownloadInput{}, &[]steps.HandOffInput{}
	env.OnActivity(steps.ResolveBase, mock.Anything, mock.Anything).Return(pipeline.BaseModel{Version: 3, LastDate: lastDate}, nil)
	env.OnActivity(steps.Download, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		*downloads = append(*downloads, args.Get(1).(steps.DownloadInput))
	}).Return(download)
	env.OnActivity(steps.HandOff, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		*handoffs = append(*handoffs, args.Get(1).(steps.HandOffInput))
	}).Return(steps.HandOffResult{WorkflowID: "retrain-NFLX", RunID: "run-1"}, nil)
	return env, downloads, handoffs
}

func downloaded(key string, rows int) func(context.Context, steps.DownloadInput) (steps.DownloadResult, error) {
	return func(context.Context, steps.DownloadInput) (steps.DownloadResult, error) {
		return steps.DownloadResult{CSVKey: key, Rows: rows}, nil
	}
}

func runRefresh(t *testing.T, env *testsuite.TestWorkflowEnvironment, in pipeline.RefreshInput) pipeline.RefreshResult {
	t.Helper()
	env.ExecuteWorkflow(RefreshTicker, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("refresh failed: %v", err)
	}
	var res pipeline.RefreshResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRefreshUpToDateDownloadsNothing(t *testing.T) {
	for _, last := range []string{"2024-07-03", "2024-07-05"} {
		t.Run(last, func(t *testing.T) {
			env, downloads, handoffs := refreshEnv(t, last, downloaded("uploads/x.csv", 1))
			res := runRefresh(t, env, pipeline.RefreshInput{Ticker: "nflx", Source: "yahoo"})
			if len(*downloads) != 0 || len(*handoffs) != 0 {
				t.Fatalf("downloaded %v, handed off %v when up to date", *downloads, *handoffs)
			}
			if res.HandedOn || !strings.Contains(res.Note, "up to date") || res.Ticker != "NFLX" {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

func TestRefreshAsksForTodayWhenTheDataEndsYesterday(t *testing.T) {
	env, downloads, handoffs := refreshEnv(t, "2024-07-02", downloaded("uploads/"+strings.Repeat("cd", 32)+".csv", 1))
	res := runRefresh(t, env, pipeline.RefreshInput{Ticker: "NFLX"})
	if want := []steps.DownloadInput{{Ticker: "NFLX", Start: "2024-07-03", End: "2024-07-03"}}; !reflect.DeepEqual(*downloads, want) {
		t.Fatalf("downloads %+v, want %+v", *downloads, want)
	}
	if len(*handoffs) != 1 || !res.HandedOn || res.Rows != 1 {
		t.Fatalf("result %+v, handoffs %+v", res, *handoffs)
	}
}

func TestRefreshWithNoNewDaysHandsNothingOn(t *testing.T) {
	env, downloads, handoffs := refreshEnv(t, "2024-07-01", func(context.Context, steps.DownloadInput) (steps.DownloadResult, error) {
		return steps.DownloadResult{}, temporal.NewNonRetryableApplicationError("no rows between 2024-07-02 and 2024-07-03", steps.ErrNotFound, nil)
	})
	res := runRefresh(t, env, pipeline.RefreshInput{Ticker: "NFLX", Source: "yahoo"})
	if len(*downloads) != 1 || len(*handoffs) != 0 {
		t.Fatalf("downloads %v, handoffs %v", *downloads, *handoffs)
	}
	if res.HandedOn || res.CSVKey != "" || !strings.Contains(res.Note, "no rows between") {
		t.Fatalf("result = %+v", res)
	}
}

func TestRefreshHandsNewDaysToTheTicker(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	env, downloads, handoffs := refreshEnv(t, "2024-06-28", downloaded("uploads/"+sha+".csv", 3))
	opts := pipeline.RetrainOptions{Mode: pipeline.ModeAuto}
	res := runRefresh(t, env, pipeline.RefreshInput{Ticker: "nflx", Source: "yahoo", Options: opts, Device: "cuda", SearchAttributes: true})

	if want := []steps.DownloadInput{{Ticker: "NFLX", Start: "2024-06-29", End: "2024-07-03"}}; !reflect.DeepEqual(*downloads, want) {
		t.Fatalf("downloads %+v, want %+v", *downloads, want)
	}
	if len(*handoffs) != 1 {
		t.Fatalf("handoffs %+v, want one", *handoffs)
	}
	h := (*handoffs)[0]
	if h.Ticker != "NFLX" || h.Device != "cuda" || !h.SearchAttributes {
		t.Fatalf("handoff = %+v", h)
	}
	d := h.Data
	if d.SHA256 != sha || d.CSVKey != "uploads/"+sha+".csv" || d.Source != "refresh:yahoo" || d.Options != opts || d.InboxKey != "" {
		t.Fatalf("handed data = %+v", d)
	}
	if d.Name != "yahoo-2024-06-29-2024-07-03.csv" || !d.Arrived.Equal(refreshToday) {
		t.Fatalf("handed data name %q arrived %v", d.Name, d.Arrived)
	}
	if !res.HandedOn || res.Rows != 3 || res.CSVKey != d.CSVKey || res.From != "2024-06-29" || res.To != "2024-07-03" || !strings.Contains(res.Note, "retrain-NFLX") {
		t.Fatalf("result = %+v", res)
	}
}

func TestRefreshRejectsOtherSources(t *testing.T) {
	env, downloads, handoffs := refreshEnv(t, "2024-06-28", downloaded("uploads/x.csv", 1))
	env.ExecuteWorkflow(RefreshTicker, pipeline.RefreshInput{Ticker: "NFLX", Source: "stooq"})
	if err := env.GetWorkflowError(); appErrorType(err) != steps.ErrInvalidParams {
		t.Fatalf("error = %v, want InvalidParams", err)
	}
	if len(*downloads) != 0 || len(*handoffs) != 0 {
		t.Fatal("a refresh from an unknown source downloaded or handed off")
	}
}

func TestRefreshFailsOnADownloadError(t *testing.T) {
	env, _, handoffs := refreshEnv(t, "2024-06-28", func(context.Context, steps.DownloadInput) (steps.DownloadResult, error) {
		return steps.DownloadResult{}, temporal.NewNonRetryableApplicationError("yahoo said 401", steps.ErrInvalidParams, nil)
	})
	env.ExecuteWorkflow(RefreshTicker, pipeline.RefreshInput{Ticker: "NFLX"})
	err := env.GetWorkflowError()
	if appErrorType(err) != steps.ErrInvalidParams || !strings.Contains(err.Error(), "download failed: yahoo said 401") {
		t.Fatalf("error = %v", err)
	}
	if len(*handoffs) != 0 {
		t.Fatal("handed off after a failed download")
	}
}
