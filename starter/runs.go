package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/report"
	"github.com/finsight/finsight/internal/runs"
)

// listRuns prints the runs in the store as a table (or JSON).
func listRuns(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("runs")
	cfg.FlagsFor(fs, config.StoreFlags...)
	ticker := fs.String("ticker", "", "only this ticker's runs")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	t := ""
	if *ticker != "" {
		var err error
		if t, err = pipeline.NormalizeTicker(*ticker); err != nil {
			return err
		}
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return err
	}
	list, err := runs.List(ctx, store, t)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tTICKER\tSTATUS\tSTAGE\tSTARTED\tMODEL\tTEST RMSE\tNAIVE RMSE")
	for _, r := range list {
		model, rmse, naive := "-", "-", "-"
		if r.Result != nil && r.Result.ModelVersion > 0 {
			model = fmt.Sprintf("v%d", r.Result.ModelVersion)
			rmse = fmt.Sprintf("%.4f", r.Result.Metrics.TestRMSE)
			naive = fmt.Sprintf("%.4f", r.Result.Metrics.NaiveRMSE)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Ticker, r.Status, r.Stage,
			r.StartedAt.Format("2006-01-02 15:04"), model, rmse, naive)
	}
	return tw.Flush()
}

// showRun prints one run's report summary (or its record as JSON).
func showRun(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("run")
	cfg.FlagsFor(fs, flagsOf(config.StoreFlags, []string{"addr"})...)
	asJSON := fs.Bool("json", false, "print the run record as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: starter run [--json] RUN_ID")
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return err
	}
	rec, err := runs.Read(ctx, store, fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rec)
	}
	if err := report.Summary(stdout, rec); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  report page: http://%s/runs/%s/report\n", cfg.APIAddr, rec.ID)
	return nil
}
