package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
)

// offlineEnv is an environment whose Temporal address nothing listens on
// and whose store is a folder that does not exist yet, so a test can tell
// that a command failed before touching either.
func offlineEnv(t *testing.T) (getenv func(string) string, store string) {
	t.Helper()
	store = filepath.Join(t.TempDir(), "store")
	env := map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", "FINSIGHT_STORE": store}
	return func(k string) string { return env[k] }, store
}

// runStarter runs the starter's entry point and returns its exit code,
// stdout and stderr.
func runStarter(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, getenv)
	return code, out.String(), errb.String()
}

func TestRetrainRejectsBadFlagsBeforeAnyNetwork(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "new.csv")
	if err := os.WriteFile(csv, []byte("Date,Open\n2024-01-02,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad mode", []string{"--ticker", "NFLX", "--csv", csv, "--mode", "fast"}, `retrain mode "fast"`},
		{"bad ticker", []string{"--ticker", "../etc", "--csv", csv}, "invalid ticker"},
		{"no ticker", []string{"--csv", csv}, "invalid ticker"},
		{"missing csv", []string{"--ticker", "NFLX"}, "--csv FILE is required"},
		{"negative epochs", []string{"--ticker", "NFLX", "--csv", csv, "--epochs", "-1"}, "must not be negative"},
		{"negative lr", []string{"--ticker", "NFLX", "--csv", csv, "--lr", "-0.1"}, "must not be negative"},
		{"test fraction too big", []string{"--ticker", "NFLX", "--csv", csv, "--test-fraction", "0.9"}, "fractions"},
		{"bad run device", []string{"--ticker", "NFLX", "--csv", csv, "--run-device", "tpu"}, "--run-device"},
		{"zero timeout", []string{"--ticker", "NFLX", "--csv", csv, "--timeout", "0s"}, "--timeout"},
		{"stray argument", []string{"--ticker", "NFLX", "--csv", csv, "extra"}, "unexpected arguments"},
		{"unknown flag", []string{"--ticker", "NFLX", "--csv", csv, "--bogus"}, "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv, store := offlineEnv(t)
			code, out, errOut := runStarter(t, getenv, append([]string{"retrain"}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q: want a failure naming %q", code, errOut, tc.want)
			}
			if out != "" {
				t.Errorf("stdout %q: want nothing", out)
			}
			if _, err := os.Stat(store); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("store %s was touched (%v): the flags must be checked first", store, err)
			}
		})
	}
}

func TestParseRetrainArgs(t *testing.T) {
	getenv, _ := offlineEnv(t)
	a, err := parseRetrainArgs([]string{"--ticker", "nflx", "--csv", "x.csv", "--mode", "FULL", "--epochs", "7",
		"--lr", "0.01", "--test-fraction", "0.25", "--force-promote", "--json", "--task-queue", "q"}, config.FromEnv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	want := pipeline.RetrainOptions{Mode: pipeline.ModeFull, Epochs: 7, LearningRate: 0.01, TestFraction: 0.25, ForcePromote: true}
	if a.ticker != "NFLX" || a.csv != "x.csv" || a.opts != want || !a.wait || !a.asJSON || a.cfg.TaskQueue != "q" || a.timeout != 2*time.Hour {
		t.Fatalf("parsed %+v", a)
	}
	a, err = parseRetrainArgs([]string{"--ticker", "NFLX", "--csv", "x.csv"}, config.FromEnv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	if a.opts != (pipeline.RetrainOptions{}) || a.wait || a.device != "auto" {
		t.Fatalf("defaults: %+v: want zero options (the workflow's defaults), no wait", a)
	}
}

func TestFindOutcome(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	done := []pipeline.RetrainOutcome{
		{WorkflowID: "retrain-NFLX-1", Files: []string{"aaa"}, Finished: t0},
		{WorkflowID: "retrain-NFLX-2", Files: []string{"bbb", "ccc"}, Finished: t0.Add(time.Hour)},
		{WorkflowID: "retrain-NFLX-2", Files: []string{"aaa"}, Finished: t0.Add(2 * time.Hour), Error: "duplicate of retrain-NFLX-1"},
	}
	for _, tc := range []struct {
		sum    string
		since  time.Time
		wantOK bool
		wantAt int
	}{
		{"aaa", time.Time{}, true, 0},               // no baseline: the first that lists it
		{"ccc", time.Time{}, true, 1},               // coalesced with another file
		{"aaa", t0, true, 2},                        // finished at t0 before the hand-off: the next one
		{"aaa", t0.Add(2 * time.Hour), false, 0},    // nothing newer yet
		{"ddd", time.Time{}, false, 0},              // not there
		{"bbb", t0.Add(30 * time.Minute), true, 1},  // newer than the baseline
		{"bbb", t0.Add(90 * time.Minute), false, 0}, // older than the baseline
		{"ccc", t0.Add(-time.Nanosecond), true, 1},  // any time after
		{"aaa", t0.Add(-time.Nanosecond), true, 0},  // the first after, not the newest
		{"bbb", t0.Add(time.Hour), false, 0},        // finishing at the baseline is not after it
		{"aaa", t0.Add(time.Hour + time.Second), true, 2},
	} {
		got, ok := findOutcome(done, tc.sum, tc.since)
		if ok != tc.wantOK || (ok && !sameOutcome(got, done[tc.wantAt])) {
			t.Errorf("findOutcome(%s, since %s) = %+v, %v: want #%d, %v", tc.sum, tc.since, got, ok, tc.wantAt, tc.wantOK)
		}
	}
	if !isDuplicate(done[2]) || isDuplicate(done[0]) || isDuplicate(pipeline.RetrainOutcome{Error: "train: out of memory"}) {
		t.Error("isDuplicate: want true only for the duplicate drop")
	}
}

func sameOutcome(a, b pipeline.RetrainOutcome) bool {
	return a.WorkflowID == b.WorkflowID && a.Finished.Equal(b.Finished) && a.Error == b.Error
}

func TestFileState(t *testing.T) {
	st := pipeline.TickerStatus{
		Queue:   []pipeline.NewData{{SHA256: "q1"}, {SHA256: "q2"}},
		Running: &pipeline.RunningRetrain{WorkflowID: "retrain-NFLX-3", Files: []pipeline.NewData{{SHA256: "r1"}, {SHA256: "r2"}}},
	}
	for sum, want := range map[string]string{
		"q2": "queued (2 of 2 waiting)",
		"r1": "retraining in retrain-NFLX-3 (2 file(s) in the batch)",
		"zz": "",
	} {
		if got := fileState(st, sum); got != want {
			t.Errorf("fileState(%s) = %q, want %q", sum, got, want)
		}
	}
}

func TestWaitForOutcomeRetriesAndReportsProgress(t *testing.T) {
	out := pipeline.RetrainOutcome{WorkflowID: "retrain-NFLX-1", Files: []string{"abc"}, Finished: time.Now()}
	answers := []func() (pipeline.TickerStatus, error){
		func() (pipeline.TickerStatus, error) {
			return pipeline.TickerStatus{}, errors.New("workflow not found")
		},
		func() (pipeline.TickerStatus, error) { return pipeline.TickerStatus{}, errors.New("no poller") },
		func() (pipeline.TickerStatus, error) {
			return pipeline.TickerStatus{Queue: []pipeline.NewData{{SHA256: "abc"}}}, nil
		},
		func() (pipeline.TickerStatus, error) {
			return pipeline.TickerStatus{Queue: []pipeline.NewData{{SHA256: "abc"}}}, nil
		},
		func() (pipeline.TickerStatus, error) {
			return pipeline.TickerStatus{Running: &pipeline.RunningRetrain{WorkflowID: "retrain-NFLX-1", Files: []pipeline.NewData{{SHA256: "abc"}}}}, nil
		},
		func() (pipeline.TickerStatus, error) {
			return pipeline.TickerStatus{Done: []pipeline.RetrainOutcome{out}}, nil
		},
	}
	calls := 0
	status := func(context.Context) (pipeline.TickerStatus, error) {
		a := answers[min(calls, len(answers)-1)]
		calls++
		return a()
	}
	var seen []string
	got, err := waitForOutcome(context.Background(), status, "abc", time.Time{}, time.Millisecond, func(s string) { seen = append(seen, s) })
	if err != nil {
		t.Fatal(err)
	}
	if got.WorkflowID != out.WorkflowID || calls != len(answers) {
		t.Fatalf("got %+v after %d queries", got, calls)
	}
	want := []string{"queued (1 of 1 waiting)", "retraining in retrain-NFLX-1 (1 file(s) in the batch)"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Fatalf("progress %q, want %q (each state once)", seen, want)
	}
}

func TestWaitForOutcomeGivesUpAtTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	status := func(context.Context) (pipeline.TickerStatus, error) {
		return pipeline.TickerStatus{}, errors.New("workflow not found")
	}
	_, err := waitForOutcome(ctx, status, "abc", time.Time{}, 5*time.Millisecond, func(string) {})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "workflow not found") {
		t.Fatalf("err = %v: want the deadline and the last query error", err)
	}
}

// sampleRetrainingResult is a finetune of NFLX v2 into v3 over two files,
// one of them rejected.
func sampleRetrainingResult() pipeline.RetrainingResult {
	return pipeline.RetrainingResult{
		WorkflowID: "retrain-NFLX-1", Ticker: "NFLX",
		Base: pipeline.BaseModel{Version: 2, Why: "champion"},
		Mode: pipeline.ModeFinetune, ModeReason: "asked for finetune",
		Files: []pipeline.FileOutcome{
			{Name: "jan.csv", SHA256: "0123456789abcdef0123", Rows: 40, NewRows: 21, First: "2022-01-03", Last: "2022-02-01"},
			{Name: "bad.csv", SHA256: "fedcba9876543210fedc", Rejected: true, Reason: "no new days", Moved: "rejected/NFLX/bad.csv"},
		},
		Drift:        pipeline.Drift{MaxJS: 0.0412, Feature: "open", Threshold: 0.1},
		ModelVersion: 3, ModelURI: "file:///s/models/NFLX/v3",
		Comparison: pipeline.Comparison{Days: 5, First: "2022-01-26", Last: "2022-02-01", Scores: []pipeline.ModelScore{
			{Name: "v3 (challenger)", Version: 3, RMSE: 10.5, MAE: 8.25},
			{Name: "v2 (base)", Version: 2, RMSE: 12, MAE: 9.5},
			{Name: "naive", RMSE: 11, MAE: 9},
		}},
		Promotion: pipeline.Promotion{Alias: "champion", Promoted: true, Reason: "v3 beats champion v2 and naive on RMSE"},
	}
}

func TestPrintRetrainingResult(t *testing.T) {
	var b bytes.Buffer
	printRetrainingResult(&b, sampleRetrainingResult())
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	want := []string{
		"NFLX retrained: model v3 registered as champion (file:///s/models/NFLX/v3)",
		"  mode: finetune (asked for finetune)",
		"  base: v2 (champion)",
		"  files:",
		"    jan.csv (0123456789ab): 40 rows, 21 new, 2022-01-03..2022-02-01",
		"    bad.csv (fedcba987654): rejected: no new days (moved to rejected/NFLX/bad.csv)",
		"  drift: max JS 0.0412 on open (threshold 0.1000, not exceeded)",
		"  test 2022-01-26..2022-02-01, 5 days, price units:",
		"    model                 RMSE        MAE",
		"    v3 (challenger)    10.5000     8.2500",
		"    v2 (base)          12.0000     9.5000",
		"    naive              11.0000     9.0000",
		"  promotion: v3 beats champion v2 and naive on RMSE",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want[i])
		}
	}
}
