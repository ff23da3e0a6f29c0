package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
)

func TestScheduleRejectsBadFlagsBeforeAnyNetwork(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "usage: starter schedule"},
		{"unknown subcommand", []string{"pause"}, `unknown schedule subcommand "pause"`},
		{"create without ticker", []string{"create"}, "invalid ticker"},
		{"create bad ticker", []string{"create", "--ticker", "a/b"}, "invalid ticker"},
		{"create bad every", []string{"create", "--ticker", "NFLX", "--every", "daily"}, "daily"},
		{"create zero every", []string{"create", "--ticker", "NFLX", "--every", "0s"}, "--every 0s"},
		{"create negative every", []string{"create", "--ticker", "NFLX", "--every", "-5m"}, "--every -5m0s"},
		{"create bad source", []string{"create", "--ticker", "NFLX", "--source", "bloomberg"}, `--source "bloomberg"`},
		{"create bad mode", []string{"create", "--ticker", "NFLX", "--mode", "half"}, `retrain mode "half"`},
		{"create bad device", []string{"create", "--ticker", "NFLX", "--run-device", "tpu"}, "--run-device"},
		{"inbox bad every", []string{"inbox", "--every", "500ms"}, "--every 500ms"},
		{"inbox stray argument", []string{"inbox", "now"}, "unexpected arguments"},
		{"list stray argument", []string{"list", "all"}, "unexpected arguments"},
		{"delete without target", []string{"delete"}, "--ticker T or --id ID is required"},
		{"delete both targets", []string{"delete", "--ticker", "NFLX", "--id", "finsight-inbox"}, "not both"},
		{"delete foreign id", []string{"delete", "--id", "nightly-backup"}, "only finsight-* schedules"},
		{"trigger bad ticker", []string{"trigger", "--ticker", "../x"}, "invalid ticker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv, store := offlineEnv(t)
			code, _, errOut := runStarter(t, getenv, append([]string{"schedule"}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q: want a failure naming %q", code, errOut, tc.want)
			}
			if _, err := os.Stat(store); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("store %s was touched (%v)", store, err)
			}
		})
	}
}

func TestRefreshScheduleOptions(t *testing.T) {
	getenv, _ := offlineEnv(t)
	a, err := parseRefreshArgs([]string{"--ticker", "nflx", "--every", "12h", "--mode", "auto", "--task-queue", "q"}, config.FromEnv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	opts := refreshSchedule(a, true)
	act := checkEverySchedule(t, opts, "finsight-refresh-NFLX", 12*time.Hour, "refresh-NFLX", pipeline.RefreshWorkflow, "q")
	want := pipeline.RefreshInput{Ticker: "NFLX", Source: "yahoo", Options: pipeline.RetrainOptions{Mode: pipeline.ModeAuto},
		Device: "auto", SearchAttributes: true}
	if len(act.Args) != 1 || act.Args[0] != want {
		t.Fatalf("args %+v, want [%+v]", act.Args, want)
	}
	if pipeline.RefreshScheduleTicker(opts.ID) != "NFLX" {
		t.Errorf("schedule id %s does not name its ticker", opts.ID)
	}
}

func TestInboxScheduleOptions(t *testing.T) {
	getenv, _ := offlineEnv(t)
	a, err := parseInboxArgs(nil, config.FromEnv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	opts := inboxSchedule(a, false)
	act := checkEverySchedule(t, opts, pipeline.InboxScheduleID, 5*time.Minute, "inbox-scan", pipeline.InboxWorkflow, config.DefaultTaskQueue)
	want := pipeline.InboxInput{Device: "auto"}
	if len(act.Args) != 1 {
		t.Fatalf("args %+v, want [%+v]", act.Args, want)
	}
	if in, ok := act.Args[0].(pipeline.InboxInput); !ok || in.Device != want.Device || in.SearchAttributes || in.Keys != nil {
		t.Fatalf("args %+v, want [%+v]", act.Args, want)
	}
}

// checkEverySchedule checks a schedule's id, interval, overlap policy and
// workflow action, and returns the action.
func checkEverySchedule(t *testing.T, o client.ScheduleOptions, id string, every time.Duration, wfID, wf, queue string) *client.ScheduleWorkflowAction {
	t.Helper()
	if o.ID != id || len(o.Spec.Intervals) != 1 || o.Spec.Intervals[0].Every != every || o.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Fatalf("schedule %+v: want id %s every %s, overlap skip", o, id, every)
	}
	act, ok := o.Action.(*client.ScheduleWorkflowAction)
	if !ok || act.ID != wfID || act.Workflow != wf || act.TaskQueue != queue {
		t.Fatalf("action %+v: want workflow %s (id %s) on %s", o.Action, wf, wfID, queue)
	}
	return act
}

func TestParseTargetArgs(t *testing.T) {
	getenv, _ := offlineEnv(t)
	for args, want := range map[string]string{
		"--ticker brk.b":      "finsight-refresh-BRK.B",
		"--id finsight-inbox": "finsight-inbox",
	} {
		a, err := parseTargetArgs("delete", strings.Fields(args), config.FromEnv(getenv))
		if err != nil || a.id != want {
			t.Errorf("%s: id %q, %v: want %q", args, a.id, err, want)
		}
	}
}

func TestFormatEvery(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour:                "24h",
		5 * time.Minute:               "5m",
		90 * time.Minute:              "1h30m",
		30 * time.Second:              "30s",
		time.Minute + 30*time.Second:  "1m30s",
		time.Hour + 30*time.Second:    "1h0m30s",
		48*time.Hour + 15*time.Minute: "48h15m",
	} {
		if got := formatEvery(d); got != want {
			t.Errorf("formatEvery(%s) = %q, want %q", d, got, want)
		}
	}
	if got := specEvery(nil); got != "-" {
		t.Errorf("specEvery(nil) = %q", got)
	}
}

func TestScheduleRowsAndTable(t *testing.T) {
	next := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	refresh := &client.ScheduleDescription{
		Schedule: client.Schedule{
			Action: &client.ScheduleWorkflowAction{Workflow: pipeline.RefreshWorkflow},
			Spec:   &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour}}},
			State:  &client.ScheduleState{Paused: true, Note: "paused by hand"},
		},
		Info: client.ScheduleInfo{NumActions: 12, RecentActions: make([]client.ScheduleActionResult, 10), NextActionTimes: []time.Time{next}},
	}
	inbox := &client.ScheduleDescription{
		Schedule: client.Schedule{
			Action: &client.ScheduleWorkflowAction{Workflow: pipeline.InboxWorkflow},
			Spec:   &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 5 * time.Minute}}},
		},
	}
	rows := []scheduleRow{scheduleRowOf(pipeline.InboxScheduleID, inbox), scheduleRowOf("finsight-refresh-NFLX", refresh)}
	r := rows[1]
	if r.Ticker != "NFLX" || r.Runs != "refresh NFLX" || r.Workflow != pipeline.RefreshWorkflow || r.Every != "24h" ||
		r.Actions != 12 || r.RecentActions != 10 || !r.Paused || r.Note != "paused by hand" || r.NextRun == nil || !r.NextRun.Equal(next) {
		t.Fatalf("refresh row %+v", r)
	}
	if r := rows[0]; r.Runs != "inbox scan" || r.Ticker != "" || r.Every != "5m" || r.NextRun != nil || r.Paused {
		t.Fatalf("inbox row %+v", r)
	}
	var b bytes.Buffer
	if err := printScheduleRows(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := "ID                     RUNS          EVERY  NEXT RUN              ACTIONS  PAUSED\n" +
		"finsight-inbox         inbox scan    5m     -                     0        no\n" +
		"finsight-refresh-NFLX  refresh NFLX  24h    2024-05-02 00:00:00Z  12       yes\n"
	if got := b.String(); got != want {
		t.Fatalf("table:\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	if err := printScheduleRows(&b, nil); err != nil || !strings.HasPrefix(b.String(), "no FinSight schedules") {
		t.Fatalf("empty table: %q, %v", b.String(), err)
	}
}
