package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/handoff"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

// Polling of the ticker workflow's status query while waiting.
const (
	statusPollEvery    = time.Second
	statusQueryTimeout = 10 * time.Second // one query; a worker that is not there yet makes it hang
)

// retrainArgs are the checked flags of `starter retrain`.
type retrainArgs struct {
	cfg     config.Config
	req     pipeline.CheckedRetrain
	ticker  string
	csv     string
	format  frame.CSVFormat
	opts    pipeline.RetrainOptions
	device  string
	wait    bool
	asJSON  bool
	timeout time.Duration
}

// parseRetrainArgs parses and checks the flags of `starter retrain`; every
// mistake is reported here, before the store or Temporal is touched.
func parseRetrainArgs(args []string, cfg config.Config) (retrainArgs, error) {
	a := retrainArgs{cfg: cfg}
	fs := newFlagSet("retrain")
	a.cfg.FlagsFor(fs, flagsOf(dialFlags(), queueFlag, config.StoreFlags, uiFlag)...)
	r := pipeline.DefaultRetrainRequest() // the request POST /retrain reads as JSON
	fs.StringVar(&r.Ticker, "ticker", "", "ticker symbol (required)")
	fs.StringVar(&a.csv, "csv", "", "local CSV of the new daily prices, any common export (required)")
	bindFormatFlags(fs, &r.Columns, &r.DateFormat, &r.Decimal)
	fs.StringVar(&r.Mode, "mode", "", "finetune (default: warm start from the base model), full (from scratch) or auto (full when the data drifted)")
	fs.IntVar(&r.Base, "base", 0, "the version to retrain from (0: the champion, else the latest)")
	fs.IntVar(&r.Epochs, "epochs", 0, "training epochs (0: finetune 5, full the base model's)")
	fs.Float64Var(&r.LR, "lr", 0, "learning rate (0: finetune base/10, full the base model's)")
	fs.Float64Var(&r.TestFraction, "test-fraction", 0, "share of the new rows (the newest) kept as test days (0: 0.2)")
	fs.BoolVar(&r.ForcePromote, "force-promote", false, "make the new model champion whatever the gate says (recorded)")
	fs.StringVar(&r.RunDevice, "run-device", r.RunDevice, "where training runs when this starts the ticker's workflow: auto or cuda")
	fs.BoolVar(&a.wait, "wait", false, "wait for the retrain and print its result")
	fs.BoolVar(&a.asJSON, "json", false, "print the result as one JSON object (implies --wait)")
	fs.DurationVar(&a.timeout, "timeout", 2*time.Hour, "how long --wait waits for the retrain")
	if err := parseFlags(fs, args); err != nil {
		return retrainArgs{}, err
	}
	if fs.NArg() > 0 {
		return retrainArgs{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	checked, err := r.Check()
	if err != nil {
		return retrainArgs{}, flagError(err)
	}
	a.req, a.ticker, a.format, a.opts, a.device = checked, checked.Ticker, checked.Format, checked.Options, checked.Device
	if a.csv == "" {
		return retrainArgs{}, errors.New("--csv FILE is required")
	}
	if a.timeout <= 0 {
		return retrainArgs{}, fmt.Errorf("--timeout %s: want a positive duration", a.timeout)
	}
	a.wait = a.wait || a.asJSON
	return a, nil
}

// retrain uploads a CSV of new prices and hands it to the ticker's
// TickerRetrainer; with --wait it follows the file to its retrain's result.
func retrain(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	a, err := parseRetrainArgs(args, cfg)
	if err != nil {
		return err
	}
	store, err := a.cfg.OpenStore(ctx)
	if err != nil {
		return err
	}
	up, err := launch.UploadFile(ctx, store, a.csv)
	if err != nil {
		return err
	}
	d := launch.NewData(up, up.Name, a.req, "starter", time.Now())
	sum := d.Identity() // what the ticker's workflow knows the file by
	c, err := dial(a.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	id := pipeline.TickerWorkflowID(a.ticker)
	var since time.Time
	if a.wait {
		since = lastOutcomeOf(ctx, c, id, sum)
	}
	target := handoff.Target{TaskQueue: a.cfg.TaskQueue, Device: a.device, SearchAttributes: launch.HasSearchAttributes(ctx, c, a.cfg.Namespace)}
	if _, err := handoff.ToTicker(ctx, c, target, a.ticker, d); err != nil {
		return err
	}
	if !a.asJSON {
		fmt.Fprintf(stdout, "handed %s (%s) to %s\n  workflow id: %s\n  web ui:      %s\n",
			d.Name, shortSHA(sum), pipeline.TickerWorkflow, id, a.cfg.WorkflowURL(id))
	}
	if !a.wait {
		return nil
	}
	return waitAndReport(ctx, c, a, sum, since, stdout)
}

// waitAndReport waits (up to --timeout) for the retrain that took the file
// and prints its result.
func waitAndReport(ctx context.Context, c client.Client, a retrainArgs, sum string, since time.Time, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	id := pipeline.TickerWorkflowID(a.ticker)
	progress := func(string) {}
	status := tickerStatusQuery(c, id)
	var view progressView
	if !a.asJSON {
		view = newProgressView(stdout)
		progress = view.note
		status = withRetrainProgress(status, c, sum, view)
	}
	out, err := waitForOutcome(ctx, status, sum, since, statusPollEvery, progress)
	if err != nil {
		return fmt.Errorf("wait for %s in %s: %w", shortSHA(sum), id, err)
	}
	if view != nil && !isDuplicate(out) {
		st := "Completed"
		if out.Error != "" {
			st = "Failed"
		}
		view.finish(st, out.Error == "")
	}
	if isDuplicate(out) {
		if a.asJSON {
			return json.NewEncoder(stdout).Encode(out)
		}
		fmt.Fprintf(stdout, "%s was not retrained again: %s\n", shortSHA(sum), out.Error)
		return nil
	}
	if out.Error != "" {
		return fmt.Errorf("%s %s failed: %s\n  web ui: %s", pipeline.RetrainingWorkflow, out.WorkflowID, out.Error, a.cfg.WorkflowURL(out.WorkflowID))
	}
	var res pipeline.RetrainingResult
	if err := c.GetWorkflow(ctx, out.WorkflowID, "").Get(ctx, &res); err != nil {
		return fmt.Errorf("result of %s: %w", out.WorkflowID, err)
	}
	if a.asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	printRetrainingResult(stdout, res)
	return nil
}

// statusFunc asks a ticker workflow for its status.
type statusFunc func(ctx context.Context) (pipeline.TickerStatus, error)

// tickerStatusQuery queries workflow id's status, each try bounded by
// statusQueryTimeout.
func tickerStatusQuery(c client.Client, id string) statusFunc {
	return func(ctx context.Context) (pipeline.TickerStatus, error) {
		ctx, cancel := context.WithTimeout(ctx, statusQueryTimeout)
		defer cancel()
		var st pipeline.TickerStatus
		v, err := c.QueryWorkflow(ctx, id, "", pipeline.StatusQuery)
		if err != nil {
			return st, fmt.Errorf("query %s of %s: %w", pipeline.StatusQuery, id, err)
		}
		if err := v.Get(&st); err != nil {
			return st, fmt.Errorf("decode %s of %s: %w", pipeline.StatusQuery, id, err)
		}
		return st, nil
	}
}

// withRetrainProgress wraps a ticker's status query: while the retrain
// that holds file sum runs, each poll also asks that retrain for its
// progress query and shows it in view.
func withRetrainProgress(status statusFunc, c client.Client, sum string, view progressView) statusFunc {
	noQuery := map[string]bool{} // retrains without a progress query
	return func(ctx context.Context) (pipeline.TickerStatus, error) {
		st, err := status(ctx)
		r := st.Running
		if err != nil || r == nil || noQuery[r.WorkflowID] || !slices.ContainsFunc(r.Files, func(f pipeline.NewData) bool { return f.SHA256 == sum }) {
			return st, err
		}
		p, qerr := launch.QueryProgress(ctx, c, r.WorkflowID, "")
		if qerr == nil {
			view.update(p)
		}
		noQuery[r.WorkflowID] = launch.NoProgressQuery(qerr)
		return st, nil
	}
}

// lastOutcomeOf is when the ticker workflow last finished with file sum
// before this hand-off (zero if never, or if the workflow cannot say), so
// that waiting finds the outcome of this hand-off, not an older one.
func lastOutcomeOf(ctx context.Context, c client.Client, id, sum string) time.Time {
	st, err := tickerStatusQuery(c, id)(ctx)
	if err != nil {
		return time.Time{}
	}
	var last time.Time
	for _, o := range st.Done {
		if slices.Contains(o.Files, sum) && o.Finished.After(last) {
			last = o.Finished
		}
	}
	return last
}

// waitForOutcome polls status every so often until a finished retrain (or a
// duplicate drop) lists file sum and finished after since. Query errors
// (the workflow not yet visible, no worker yet) are retried until ctx ends.
// progress is told each new state of the file.
func waitForOutcome(ctx context.Context, status statusFunc, sum string, since time.Time, every time.Duration, progress func(string)) (pipeline.RetrainOutcome, error) {
	lastState := ""
	return pollStatus(ctx, status, every, func(st pipeline.TickerStatus) (pipeline.RetrainOutcome, bool) {
		if out, ok := findOutcome(st.Done, sum, since); ok {
			return out, true
		}
		if s := fileState(st, sum); s != "" && s != lastState {
			progress(s)
			lastState = s
		}
		return pipeline.RetrainOutcome{}, false
	})
}

// pollStatus queries status every so often until done says it has the
// outcome. Query errors (the workflow not yet visible, no worker yet) are
// retried until ctx ends, and the last one is told then.
func pollStatus(ctx context.Context, status statusFunc, every time.Duration, done func(pipeline.TickerStatus) (pipeline.RetrainOutcome, bool)) (pipeline.RetrainOutcome, error) {
	var lastErr error
	for {
		st, err := status(ctx)
		lastErr = err
		if err == nil {
			if out, ok := done(st); ok {
				return out, nil
			}
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return pipeline.RetrainOutcome{}, fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			}
			return pipeline.RetrainOutcome{}, ctx.Err()
		case <-time.After(every):
		}
	}
}

// findOutcome is the first finished retrain in done (oldest first) whose
// batch held file sum and that finished after since (any, if since is zero).
func findOutcome(done []pipeline.RetrainOutcome, sum string, since time.Time) (pipeline.RetrainOutcome, bool) {
	for _, o := range done {
		if slices.Contains(o.Files, sum) && (since.IsZero() || o.Finished.After(since)) {
			return o, true
		}
	}
	return pipeline.RetrainOutcome{}, false
}

// fileState says where file sum is in the ticker's status: queued, being
// retrained, or "" when the status does not show it.
func fileState(st pipeline.TickerStatus, sum string) string {
	if r := st.Running; r != nil {
		for _, f := range r.Files {
			if f.SHA256 == sum {
				return fmt.Sprintf("retraining in %s (%d file(s) in the batch)", r.WorkflowID, len(r.Files))
			}
		}
	}
	for i, f := range st.Queue {
		if f.SHA256 == sum {
			return fmt.Sprintf("queued (%d of %d waiting)", i+1, len(st.Queue))
		}
	}
	return ""
}

// isDuplicate reports whether the ticker workflow dropped the file because
// it had seen the same content.
func isDuplicate(o pipeline.RetrainOutcome) bool {
	return strings.HasPrefix(strings.ToLower(o.Error), "duplicate")
}

// printRetrainingResult prints a retrain's result for people.
func printRetrainingResult(w io.Writer, r pipeline.RetrainingResult) {
	fmt.Fprintf(w, "%s retrained: model v%d registered as %s (%s)\n", r.Ticker, r.ModelVersion, r.Promotion.Alias, r.ModelURI)
	fmt.Fprintf(w, "  mode: %s (%s)\n", r.Mode, r.ModeReason)
	fmt.Fprintf(w, "  base: v%d (%s)\n", r.Base.Version, r.Base.Why)
	fmt.Fprintln(w, "  files:")
	for _, f := range r.Files {
		fmt.Fprintf(w, "    %s\n", fileLine(f))
	}
	fmt.Fprintf(w, "  drift: max JS %.4f on %s (threshold %.4f, %s)\n", r.Drift.MaxJS, r.Drift.Feature, r.Drift.Threshold, exceeded(r.Drift.Exceeded))
	cmp := r.Comparison
	fmt.Fprintf(w, "  test %s..%s, %d days, price units:\n", cmp.First, cmp.Last, cmp.Days)
	width := len("model")
	for _, s := range cmp.Scores {
		width = max(width, len(s.Name))
	}
	fmt.Fprintf(w, "    %-*s %10s %10s\n", width, "model", "RMSE", "MAE")
	for _, s := range cmp.Scores {
		fmt.Fprintf(w, "    %-*s %10.4f %10.4f\n", width, s.Name, s.RMSE, s.MAE)
	}
	fmt.Fprintf(w, "  promotion: %s\n", r.Promotion.Reason)
	if r.ReportURI != "" {
		fmt.Fprintf(w, "  report: %s\n", r.ReportURI)
	}
}

// fileLine describes one new file's outcome on one line.
func fileLine(f pipeline.FileOutcome) string {
	if f.Rejected {
		s := fmt.Sprintf("%s (%s): rejected: %s", f.Name, shortSHA(f.SHA256), f.Reason)
		if f.Moved != "" {
			s += " (moved to " + f.Moved + ")"
		}
		return s
	}
	return fmt.Sprintf("%s (%s): %d rows, %d new, %s..%s", f.Name, shortSHA(f.SHA256), f.Rows, f.NewRows, f.First, f.Last)
}

func exceeded(b bool) string {
	if b {
		return "exceeded"
	}
	return "not exceeded"
}

// shortSHA is the first 12 hex digits of a content hash.
func shortSHA(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
