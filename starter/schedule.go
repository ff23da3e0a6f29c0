package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

const scheduleUsage = `usage: starter schedule <subcommand> [flags]

subcommands:
  create   refresh a ticker from Yahoo periodically: create --ticker T [--every 24h] [--source yahoo] [--mode M] [--update]
  inbox    scan the store's inbox/ periodically (created, or updated if it exists): inbox [--every 5m]
  list     list FinSight's schedules [--json]
  delete   delete a schedule: delete --ticker T | --id ID
  trigger  run a schedule's action now: trigger --ticker T | --id ID`

// Schedules the starter manages: ids start with schedulePrefix.
const (
	schedulePrefix   = "finsight-"
	inboxWorkflowID  = "inbox-scan"
	minScheduleEvery = time.Second
)

// schedule runs `starter schedule <subcommand>`.
func schedule(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	if len(args) == 0 {
		return errors.New(scheduleUsage)
	}
	switch args[0] {
	case "create":
		return scheduleCreate(ctx, args[1:], stdout, cfg)
	case "inbox":
		return scheduleInbox(ctx, args[1:], stdout, cfg)
	case "list":
		return scheduleList(ctx, args[1:], stdout, cfg)
	case "delete":
		return scheduleDelete(ctx, args[1:], stdout, cfg)
	case "trigger":
		return scheduleTrigger(ctx, args[1:], stdout, cfg)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, scheduleUsage)
		return nil
	}
	return fmt.Errorf("unknown schedule subcommand %q\n%s", args[0], scheduleUsage)
}

// refreshArgs are the checked flags of `schedule create`.
type refreshArgs struct {
	cfg    config.Config
	ticker string
	every  time.Duration
	source string
	opts   pipeline.RetrainOptions
	device string
	update bool
}

// parseRefreshArgs parses and checks `schedule create`'s flags.
func parseRefreshArgs(args []string, cfg config.Config) (refreshArgs, error) {
	a := refreshArgs{cfg: cfg}
	fs := newScheduleFlags("create", &a.cfg, queueFlag...)
	ticker := fs.String("ticker", "", "ticker symbol (required)")
	fs.DurationVar(&a.every, "every", 24*time.Hour, "how often to look for new days")
	fs.StringVar(&a.source, "source", "yahoo", "where new days come from: yahoo")
	mode := fs.String("mode", "", "retrain mode of the new days: finetune (default), full or auto")
	fs.StringVar(&a.device, "run-device", "auto", "where the retrains train: auto or cuda")
	fs.BoolVar(&a.update, "update", false, "if the schedule exists, change it to these settings instead of failing")
	if err := parseNoArgs(fs, args); err != nil {
		return refreshArgs{}, err
	}
	t, err := pipeline.NormalizeTicker(*ticker)
	if err != nil {
		return refreshArgs{}, err
	}
	a.ticker = t
	if a.source != "yahoo" {
		return refreshArgs{}, fmt.Errorf("--source %q: want yahoo", a.source)
	}
	if *mode != "" {
		if a.opts.Mode, err = pipeline.ParseMode(*mode); err != nil {
			return refreshArgs{}, err
		}
	}
	if err := checkEvery(a.every); err != nil {
		return refreshArgs{}, err
	}
	return a, checkRunDevice(a.device)
}

// inboxArgs are the checked flags of `schedule inbox`.
type inboxArgs struct {
	cfg    config.Config
	every  time.Duration
	device string
}

// parseInboxArgs parses and checks `schedule inbox`'s flags.
func parseInboxArgs(args []string, cfg config.Config) (inboxArgs, error) {
	a := inboxArgs{cfg: cfg}
	fs := newScheduleFlags("inbox", &a.cfg, queueFlag...)
	fs.DurationVar(&a.every, "every", 5*time.Minute, "how often to scan inbox/")
	fs.StringVar(&a.device, "run-device", "auto", "where the retrains it starts train: auto or cuda")
	if err := parseNoArgs(fs, args); err != nil {
		return inboxArgs{}, err
	}
	if err := checkEvery(a.every); err != nil {
		return inboxArgs{}, err
	}
	return a, checkRunDevice(a.device)
}

// targetArgs name one schedule, by ticker (its refresh) or by id.
type targetArgs struct {
	cfg config.Config
	id  string
}

// parseTargetArgs parses `schedule delete|trigger --ticker T | --id ID`.
func parseTargetArgs(name string, args []string, cfg config.Config) (targetArgs, error) {
	a := targetArgs{cfg: cfg}
	fs := newScheduleFlags(name, &a.cfg)
	ticker := fs.String("ticker", "", "the ticker whose refresh schedule it is")
	id := fs.String("id", "", "the schedule id (e.g. "+pipeline.InboxScheduleID+")")
	if err := parseNoArgs(fs, args); err != nil {
		return targetArgs{}, err
	}
	switch {
	case *ticker != "" && *id != "":
		return targetArgs{}, errors.New("give --ticker or --id, not both")
	case *ticker != "":
		t, err := pipeline.NormalizeTicker(*ticker)
		if err != nil {
			return targetArgs{}, err
		}
		a.id = pipeline.RefreshScheduleID(t)
	case *id != "":
		if !strings.HasPrefix(*id, schedulePrefix) {
			return targetArgs{}, fmt.Errorf("--id %q: the starter manages only %s* schedules", *id, schedulePrefix)
		}
		a.id = *id
	default:
		return targetArgs{}, errors.New("--ticker T or --id ID is required")
	}
	return a, nil
}

// newScheduleFlags is a flag set for `schedule name` with the settings
// that reach Temporal, and more (the task queue) where the schedule
// starts workflows.
func newScheduleFlags(name string, cfg *config.Config, more ...string) *flag.FlagSet {
	fs := newFlagSet("schedule " + name)
	cfg.FlagsFor(fs, flagsOf(dialFlags(), more)...)
	return fs
}

// parseNoArgs parses flags and rejects positional arguments.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

func checkEvery(d time.Duration) error {
	if d < minScheduleEvery {
		return fmt.Errorf("--every %s: want a duration of at least %s, like 5m or 24h", d, minScheduleEvery)
	}
	return nil
}

func checkRunDevice(d string) error {
	if d != "auto" && d != "cuda" {
		return fmt.Errorf("--run-device %q: want auto or cuda", d)
	}
	return nil
}

// refreshSchedule is the schedule of a ticker's periodic refresh.
func refreshSchedule(a refreshArgs, searchAttributes bool) client.ScheduleOptions {
	in := pipeline.RefreshInput{Ticker: a.ticker, Source: a.source, Options: a.opts, Device: a.device, SearchAttributes: searchAttributes}
	return everySchedule(pipeline.RefreshScheduleID(a.ticker), a.every, &client.ScheduleWorkflowAction{
		ID: "refresh-" + a.ticker, Workflow: pipeline.RefreshWorkflow, Args: []interface{}{in}, TaskQueue: a.cfg.TaskQueue,
	})
}

// inboxSchedule is the schedule of the periodic inbox scan.
func inboxSchedule(a inboxArgs, searchAttributes bool) client.ScheduleOptions {
	in := pipeline.InboxInput{Device: a.device, SearchAttributes: searchAttributes}
	return everySchedule(pipeline.InboxScheduleID, a.every, &client.ScheduleWorkflowAction{
		ID: inboxWorkflowID, Workflow: pipeline.InboxWorkflow, Args: []interface{}{in}, TaskQueue: a.cfg.TaskQueue,
	})
}

// everySchedule runs action every d; a run still going when the next is due
// makes the schedule skip that one.
func everySchedule(id string, d time.Duration, action *client.ScheduleWorkflowAction) client.ScheduleOptions {
	return client.ScheduleOptions{
		ID:      id,
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: d}}},
		Action:  action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	}
}

// scheduleCreate creates a ticker's refresh schedule; an existing one is an
// error unless --update, which changes it.
func scheduleCreate(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	a, err := parseRefreshArgs(args, cfg)
	if err != nil {
		return err
	}
	c, err := dial(a.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	opts := refreshSchedule(a, launch.HasSearchAttributes(ctx, c, a.cfg.Namespace))
	was, err := upsertSchedule(ctx, c.ScheduleClient(), opts, a.update)
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("schedule %s already exists: delete it first (starter schedule delete --ticker %s) or pass --update", opts.ID, a.ticker)
	}
	if err != nil {
		return err
	}
	printUpserted(stdout, opts, was)
	return nil
}

// scheduleInbox creates the inbox scan's schedule, or updates it when it
// exists, so that it may run on every `make up`.
func scheduleInbox(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	a, err := parseInboxArgs(args, cfg)
	if err != nil {
		return err
	}
	c, err := dial(a.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	opts := inboxSchedule(a, launch.HasSearchAttributes(ctx, c, a.cfg.Namespace))
	was, err := upsertSchedule(ctx, c.ScheduleClient(), opts, true)
	if err != nil {
		return err
	}
	printUpserted(stdout, opts, was)
	return nil
}

// upsertSchedule creates opts' schedule. When it exists and update is set,
// it replaces the schedule's spec, action and overlap policy (its paused
// state and history stay) and returns the old interval; when update is not
// set, the error is temporal.ErrScheduleAlreadyRunning. was is "" when the
// schedule was created.
func upsertSchedule(ctx context.Context, sc client.ScheduleClient, opts client.ScheduleOptions, update bool) (was string, err error) {
	_, err = sc.Create(ctx, opts)
	if err == nil {
		return "", nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) || !update {
		return "", fmt.Errorf("create schedule %s: %w", opts.ID, err)
	}
	err = sc.GetHandle(ctx, opts.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			was = "every " + specEvery(s.Spec)
			s.Spec = &opts.Spec
			s.Action = opts.Action
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = opts.Overlap
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return "", fmt.Errorf("update schedule %s: %w", opts.ID, err)
	}
	return was, nil
}

// printUpserted says what upsertSchedule did.
func printUpserted(w io.Writer, opts client.ScheduleOptions, was string) {
	act := opts.Action.(*client.ScheduleWorkflowAction)
	what := fmt.Sprintf("schedule %s: %s every %s", opts.ID, act.Workflow, specEvery(&opts.Spec))
	if was == "" {
		fmt.Fprintf(w, "created %s\n", what)
		return
	}
	fmt.Fprintf(w, "updated %s (was %s)\n", what, was)
}

// scheduleRow is one line of `schedule list`.
type scheduleRow struct {
	ID            string     `json:"id"`
	Runs          string     `json:"runs"` // "refresh NFLX", "inbox scan"
	Workflow      string     `json:"workflow"`
	Ticker        string     `json:"ticker,omitempty"`
	Every         string     `json:"every"`
	NextRun       *time.Time `json:"next_run,omitempty"`
	Actions       int        `json:"actions"`        // taken since the schedule was created
	RecentActions int        `json:"recent_actions"` // of the last 10 the server keeps
	Paused        bool       `json:"paused"`
	Note          string     `json:"note,omitempty"`
}

// scheduleList prints the finsight-* schedules.
func scheduleList(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	fs := newScheduleFlags("list", &cfg)
	asJSON := fs.Bool("json", false, "print the schedules as one JSON array")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c, err := dial(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	rows, err := listSchedules(ctx, c.ScheduleClient())
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rows)
	}
	return printScheduleRows(stdout, rows)
}

// listSchedules describes every finsight-* schedule, by id. The list is
// eventually consistent: a schedule deleted a moment ago is left out when
// it can no longer be described.
func listSchedules(ctx context.Context, sc client.ScheduleClient) ([]scheduleRow, error) {
	it, err := sc.List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	rows := []scheduleRow{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		if !strings.HasPrefix(e.ID, schedulePrefix) {
			continue
		}
		d, err := sc.GetHandle(ctx, e.ID).Describe(ctx)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("describe schedule %s: %w", e.ID, err)
		}
		rows = append(rows, scheduleRowOf(e.ID, d))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows, nil
}

// scheduleRowOf summarizes a schedule's description.
func scheduleRowOf(id string, d *client.ScheduleDescription) scheduleRow {
	r := scheduleRow{ID: id, Every: specEvery(d.Schedule.Spec), Actions: d.Info.NumActions, RecentActions: len(d.Info.RecentActions)}
	if act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
		r.Workflow = fmt.Sprint(act.Workflow)
	}
	switch t := pipeline.RefreshScheduleTicker(id); {
	case t != "":
		r.Ticker, r.Runs = t, "refresh "+t
	case id == pipeline.InboxScheduleID:
		r.Runs = "inbox scan"
	default:
		r.Runs = r.Workflow
	}
	if len(d.Info.NextActionTimes) > 0 {
		next := d.Info.NextActionTimes[0].UTC()
		r.NextRun = &next
	}
	if st := d.Schedule.State; st != nil {
		r.Paused, r.Note = st.Paused, st.Note
	}
	return r
}

// printScheduleRows prints schedules as a table.
func printScheduleRows(w io.Writer, rows []scheduleRow) error {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no FinSight schedules (starter schedule inbox / starter schedule create --ticker T)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRUNS\tEVERY\tNEXT RUN\tACTIONS\tPAUSED")
	for _, r := range rows {
		next := "-"
		if r.NextRun != nil {
			next = r.NextRun.Format("2006-01-02 15:04:05Z")
		}
		paused := "no"
		if r.Paused {
			paused = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Runs, r.Every, next, r.Actions, paused)
	}
	return tw.Flush()
}

// scheduleDelete deletes one schedule (its running workflows go on).
func scheduleDelete(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	return onSchedule(ctx, "delete", args, cfg, func(h client.ScheduleHandle) error {
		if err := h.Delete(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted schedule %s\n", h.GetID())
		return nil
	})
}

// scheduleTrigger runs a schedule's action now, under its overlap policy
// (skipped if its previous run is still going).
func scheduleTrigger(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	return onSchedule(ctx, "trigger", args, cfg, func(h client.ScheduleHandle) error {
		if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "triggered schedule %s (skipped if its last run is still going)\n", h.GetID())
		return nil
	})
}

// onSchedule parses --ticker/--id and runs do on that schedule's handle,
// saying plainly when there is no such schedule.
func onSchedule(ctx context.Context, name string, args []string, cfg config.Config, do func(client.ScheduleHandle) error) error {
	a, err := parseTargetArgs(name, args, cfg)
	if err != nil {
		return err
	}
	c, err := dial(a.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	err = do(c.ScheduleClient().GetHandle(ctx, a.id))
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("no schedule %s (starter schedule list shows them)", a.id)
	}
	if err != nil {
		return fmt.Errorf("%s schedule %s: %w", name, a.id, err)
	}
	return nil
}

// specEvery describes a spec's intervals ("24h", "5m", "1h30m"), or "-".
func specEvery(s *client.ScheduleSpec) string {
	if s == nil || len(s.Intervals) == 0 {
		return "-"
	}
	parts := make([]string, len(s.Intervals))
	for i, iv := range s.Intervals {
		parts[i] = formatEvery(iv.Every)
	}
	return strings.Join(parts, ",")
}

// formatEvery writes a duration without trailing zero units: 24h, 5m, 1h30m.
func formatEvery(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
