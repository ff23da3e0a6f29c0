package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

// validateData runs ingestion and validation alone (workflow ValidateData)
// and prints the anomalies found, one per line, or as JSON.
func validateData(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("validate")
	cfg.FlagsFor(fs, flagsOf(dialFlags(), queueFlag, config.StoreFlags)...)
	ticker := fs.String("ticker", "", "ticker symbol (default: from the file's Name column, else DATA)")
	var data pipeline.DataRequest
	data.Source = pipeline.SourceCSV
	src := addSourceFlags(fs, &data)
	asJSON := fs.Bool("json", false, "print the anomalies as a JSON list")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	name := *ticker
	if name == "" {
		name = "DATA"
	}
	t, err := pipeline.NormalizeTicker(name)
	if err != nil {
		return err
	}
	if err := src.check(); err != nil {
		return err
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return err
	}
	source, sum, err := src.resolve(ctx, store)
	if err != nil {
		return err
	}
	c, err := dial(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	id := fmt.Sprintf("validate-%s-%s-%d", t, pipeline.DataIDPart(sum), time.Now().UnixNano())
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue}, pipeline.ValidateWorkflow,
		pipeline.ValidateInput{Ticker: t, CSVKey: source.CSVKey, Format: source.Format, Download: source.Download, SearchAttributes: launch.HasSearchAttributes(ctx, c, cfg.Namespace)})
	if err != nil {
		return fmt.Errorf("start %s: %w", pipeline.ValidateWorkflow, err)
	}
	var res pipeline.ValidateResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("workflow %s failed: %w", run.GetID(), err)
	}
	if *asJSON {
		list := res.Anomalies
		if list == nil {
			list = []pipeline.Anomaly{}
		}
		return json.NewEncoder(stdout).Encode(list)
	}
	for _, a := range res.Anomalies {
		date := a.Date
		if date == "" {
			date = "-"
		}
		fmt.Fprintf(stdout, "%-8s %-22s %-10s %-6s %s\n", a.Severity, a.Rule, date, a.Split, a.Detail)
	}
	if res.Read != "" {
		fmt.Fprintf(stdout, "%s: %s\n", source.Label, res.Read)
	}
	fmt.Fprintf(stdout, "%s: %d rows (data version %.12s), %d critical, %d warning, %d info (workflow %s)\n", source.Label, res.Raw.Rows,
		res.Raw.SHA256, res.Counts["critical"], res.Counts["warning"], res.Counts["info"], run.GetID())
	if res.Counts["critical"] > 0 {
		return errors.New("critical anomalies found: a training run on this data would stop")
	}
	return nil
}
