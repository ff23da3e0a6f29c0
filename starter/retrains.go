package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
)

// retrains shows a ticker's retraining queue (its TickerRetrainer's status
// query): what is queued, what runs, what finished. With --wait it waits
// until at least --count retrains have finished and nothing is queued or
// running, then prints the newest one's result.
func retrains(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("retrains")
	cfg.FlagsFor(fs, flagsOf(dialFlags(), uiFlag)...)
	ticker := fs.String("ticker", "", "ticker symbol (required)")
	wait := fs.Bool("wait", false, "wait until --count retrains have finished and the queue is idle, then print the newest")
	count := fs.Int("count", 1, "with --wait: finished retrains to wait for")
	timeout := fs.Duration("timeout", 2*time.Hour, "with --wait: how long to wait")
	asJSON := fs.Bool("json", false, "print the status (or, with --wait, the newest result) as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	t, err := pipeline.NormalizeTicker(*ticker)
	if err != nil {
		return err
	}
	if *count < 1 || *timeout <= 0 {
		return fmt.Errorf("--count must be at least 1 and --timeout positive")
	}
	c, err := dial(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	id := pipeline.TickerWorkflowID(t)
	status := tickerStatusQuery(c, id)
	if !*wait {
		st, err := status(ctx)
		if err != nil {
			return fmt.Errorf("%w (has anything been handed to %s yet?)", err, t)
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(st)
		}
		printTickerStatus(stdout, st)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	last, err := waitIdle(ctx, status, *count, statusPollEvery)
	if err != nil {
		return fmt.Errorf("wait for %d retrains of %s: %w", *count, t, err)
	}
	if last.Error != "" {
		return fmt.Errorf("%s %s failed: %s\n  web ui: %s", pipeline.RetrainingWorkflow, last.WorkflowID, last.Error, cfg.WorkflowURL(last.WorkflowID))
	}
	var res pipeline.RetrainingResult
	if err := c.GetWorkflow(ctx, last.WorkflowID, "").Get(ctx, &res); err != nil {
		return fmt.Errorf("result of %s: %w", last.WorkflowID, err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	printRetrainingResult(stdout, res)
	return nil
}

// waitIdle polls status until n retrains have finished with nothing queued
// or running, and returns the newest; query errors (the workflow not
// started yet, no worker yet) are retried until ctx ends.
func waitIdle(ctx context.Context, status statusFunc, n int, every time.Duration) (pipeline.RetrainOutcome, error) {
	return pollStatus(ctx, status, every, func(st pipeline.TickerStatus) (pipeline.RetrainOutcome, bool) {
		done := finishedRetrains(st.Done)
		if len(done) >= n && st.Running == nil && len(st.Queue) == 0 {
			return done[len(done)-1], true
		}
		return pipeline.RetrainOutcome{}, false
	})
}

// finishedRetrains are the outcomes of retrains that ran (not the drops of
// duplicate content).
func finishedRetrains(done []pipeline.RetrainOutcome) []pipeline.RetrainOutcome {
	var out []pipeline.RetrainOutcome
	for _, o := range done {
		if !isDuplicate(o) {
			out = append(out, o)
		}
	}
	return out
}

// printTickerStatus lists the queue, the running retrain and the finished ones.
func printTickerStatus(w io.Writer, st pipeline.TickerStatus) {
	fmt.Fprintf(w, "%s: %d retrains started, %d queued\n", pipeline.TickerWorkflowID(st.Ticker), st.Seq, len(st.Queue))
	if r := st.Running; r != nil {
		fmt.Fprintf(w, "  running %s since %s over %d files\n", r.WorkflowID, r.Started.Format(time.RFC3339), len(r.Files))
	}
	for _, d := range st.Queue {
		fmt.Fprintf(w, "  queued  %s (%s) from %s\n", d.Name, shortSHA(d.SHA256), d.Source)
	}
	for _, o := range st.Done {
		what := fmt.Sprintf("v%d %s", o.Version, o.Mode)
		if o.Promoted {
			what += ", promoted"
		}
		if o.Error != "" {
			what = "error: " + o.Error
		}
		id := o.WorkflowID
		if id == "" {
			id = "(dropped)"
		}
		fmt.Fprintf(w, "  done    %s %s %v: %s\n", o.Finished.Format(time.RFC3339), id, o.Names, what)
	}
}
