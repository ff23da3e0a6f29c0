package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

// fleetRequest is a parsed `starter fleet`.
type fleetRequest struct {
	cfg          config.Config
	in           pipeline.FleetInput
	id           string
	wait, asJSON bool
	every        time.Duration
}

// fleetCmd uploads the fleet's files (unless they are in the store
// already), starts FleetPipeline and, with --wait, follows its progress and
// prints its report.
func fleetCmd(ctx context.Context, args []string, stdout io.Writer, cfg config.Config, getenv func(string) string) error {
	req, err := parseFleet(ctx, args, cfg, getenv)
	if err != nil {
		return err
	}
	c, err := dial(req.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: req.id, TaskQueue: req.cfg.TaskQueue}, pipeline.FleetWorkflow, req.in)
	if err != nil {
		return fmt.Errorf("start %s %s: %w", pipeline.FleetWorkflow, req.id, err)
	}
	if !req.asJSON {
		fmt.Fprintf(stdout, "started %s: %s fleet of %d tickers%s, %d at once\n  workflow id: %s\n  web ui:      %s\n",
			pipeline.FleetWorkflow, req.in.Kind, len(req.in.Items), prefixNote(req.in.Prefix), req.in.Parallel, run.GetID(), req.cfg.WorkflowURL(run.GetID()))
	}
	if !req.wait && !req.asJSON {
		return nil
	}
	if !req.asJSON {
		followFleet(ctx, c, run.GetID(), stdout, req.every)
	}
	var res pipeline.FleetResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("fleet %s failed: %w", run.GetID(), err)
	}
	if req.asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	printFleetResult(stdout, res)
	return nil
}

func prefixNote(prefix string) string {
	if prefix == "" {
		return ""
	}
	return " (and the CSVs under " + prefix + ")"
}

// parseFleet reads the flags, uploads the files and builds the input.
func parseFleet(ctx context.Context, args []string, cfg config.Config, getenv func(string) string) (fleetRequest, error) {
	fs := newFlagSet("fleet")
	cfg.FlagsFor(fs, flagsOf(dialFlags(), queueFlag, config.StoreFlags, uiFlag)...)
	r := pipeline.DefaultFleetRequest()
	dataDir := getenv("FINSIGHT_DATA")
	if dataDir == "" {
		dataDir = filepath.Join("..", "shared", "data")
	}
	sp500 := fs.Bool("sp500", false, "the 505 S&P 500 files under <data>/sp500_5yr")
	fs.StringVar(&dataDir, "data", dataDir, "the shared data folder --sp500 reads (env FINSIGHT_DATA)")
	csvDir := fs.String("csv-dir", "", "a folder of price files, one per ticker, named <TICKER>.csv (or <TICKER>_data.csv)")
	tickers := fs.String("tickers", "", "comma-separated: only these tickers of the folder")
	limit := fs.Int("limit", 0, "only the first N tickers (by name) of the folder (0: all)")
	fs.StringVar(&r.Prefix, "prefix", "", "also every CSV under this store prefix (files already in the store)")
	fs.StringVar(&r.Kind, "kind", r.Kind, "what each ticker gets: training, retraining (the file is new data for its champion) or prepare (the data chain only)")
	fs.IntVar(&r.Parallel, "parallel", r.Parallel, "tickers (prepare: groups of tickers) at once")
	fs.IntVar(&r.GroupSize, "group-size", r.GroupSize, "prepare fleets: tickers per activity")
	fs.StringVar(&r.Retrain.Mode, "mode", "", "retraining fleets: finetune, full or auto")
	fs.StringVar(&r.ID, "id", "", "the fleet's workflow id (default fleet-<kind>-<UTC time>)")
	bindTrainFlags(fs, &r.Train)
	wait := fs.Bool("wait", false, "follow the fleet's progress and print its report")
	asJSON := fs.Bool("json", false, "print the fleet's result as one JSON object (implies --wait)")
	every := fs.Duration("every", 2*time.Second, "how often --wait asks for progress")
	if err := parseFlags(fs, args); err != nil {
		return fleetRequest{}, err
	}
	if fs.NArg() > 0 {
		return fleetRequest{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	dir := *csvDir
	if *sp500 {
		if dir != "" {
			return fleetRequest{}, flagError(errors.New("--sp500 and --csv-dir: give one"))
		}
		dir = filepath.Join(dataDir, "sp500_5yr")
	}
	if dir == "" && r.Prefix == "" {
		return fleetRequest{}, flagError(errors.New("which tickers? --sp500, --csv-dir DIR or --prefix P"))
	}
	paths, err := fleetFiles(dir, *tickers, *limit)
	if err != nil {
		return fleetRequest{}, flagError(err)
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return fleetRequest{}, err
	}
	if r.Items, err = uploadFleet(ctx, store, paths); err != nil {
		return fleetRequest{}, err
	}
	in, err := r.Input()
	if err != nil {
		return fleetRequest{}, flagError(err)
	}
	id, err := pipeline.FleetWorkflowID(r, in.Kind, time.Now())
	if err != nil {
		return fleetRequest{}, flagError(err)
	}
	return fleetRequest{cfg: cfg, in: in, id: id, wait: *wait, asJSON: *asJSON, every: max(*every, 100*time.Millisecond)}, nil
}

// fleetFiles lists a folder's CSV files by name, only those of tickers
// when given, at most limit of them.
func fleetFiles(dir, tickers string, limit int) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no .csv files in %s", dir)
	}
	slices.Sort(paths)
	if tickers != "" {
		want := map[string]bool{}
		for _, t := range strings.Split(tickers, ",") {
			n, err := pipeline.NormalizeTicker(t)
			if err != nil {
				return nil, fmt.Errorf("--tickers: %w", err)
			}
			want[n] = true
		}
		paths = slices.DeleteFunc(paths, func(p string) bool {
			t, err := pipeline.TickerFromFileName(filepath.Base(p))
			return err != nil || !want[t]
		})
		if len(paths) != len(want) {
			return nil, fmt.Errorf("--tickers: %d of the %d tickers have a file in %s", len(paths), len(want), dir)
		}
	}
	if limit > 0 && len(paths) > limit {
		paths = paths[:limit]
	}
	return paths, nil
}

// uploadFleet puts each file into the store under its content hash.
func uploadFleet(ctx context.Context, store blob.Store, paths []string) ([]pipeline.FleetItem, error) {
	items := make([]pipeline.FleetItem, 0, len(paths))
	for _, p := range paths {
		t, err := pipeline.TickerFromFileName(filepath.Base(p))
		if err != nil {
			return nil, flagError(err)
		}
		up, err := launch.UploadFile(ctx, store, p)
		if err != nil {
			return nil, err
		}
		items = append(items, pipeline.FleetItem{Ticker: t, CSVKey: up.Key, Name: up.Name})
	}
	return items, nil
}

// followFleet prints the fleet's progress when it changes, until it ends
// or stops answering.
func followFleet(ctx context.Context, c client.Client, id string, stdout io.Writer, every time.Duration) {
	last := ""
	for {
		v, err := c.QueryWorkflow(ctx, id, "", pipeline.ProgressQuery)
		if err != nil {
			return // ended (a closed workflow answers from its last run), or gone: the result says which
		}
		var p pipeline.FleetProgress
		if v.Get(&p) != nil {
			return
		}
		line := fmt.Sprintf("%d/%d done, %d failed, %d running, %d queued (run %d)", p.Done, p.Total, p.Failed, len(p.Running), p.Queued, p.Runs)
		if line != last {
			fmt.Fprintf(stdout, "%s  %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
		if p.Done == p.Total && p.Total > 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// printFleetResult prints the totals, every ticker (up to 60; the report
// has them all) and every failure.
func printFleetResult(w io.Writer, r pipeline.FleetResult) {
	t := r.Totals
	fmt.Fprintf(w, "fleet %s (%s): %d tickers, %d completed, %d failed", r.FleetID, r.Kind, t.Tickers, t.Completed, t.Failed)
	if r.Kind != pipeline.FleetPrepare {
		fmt.Fprintf(w, "; %d beat naive, %d promoted", t.BeatNaive, t.Promoted)
	}
	fmt.Fprintf(w, "; %s in %d run(s)\n", r.Finished.Sub(r.Started).Round(time.Second), r.Runs)
	if len(r.Outcomes) <= 60 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if r.Kind == pipeline.FleetPrepare {
			fmt.Fprintln(tw, "ticker\tstatus\trows\twindows\tseconds")
			for _, o := range r.Outcomes {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d/%d/%d\t%.2f\n", o.Ticker, o.Status, o.Rows, o.Windows[0], o.Windows[1], o.Windows[2], o.Seconds)
			}
		} else {
			fmt.Fprintln(tw, "ticker\tstatus\tversion\ttest RMSE\tnaive RMSE\tvs naive\tMASE\tDM p\talias\tseconds")
			for _, o := range r.Outcomes {
				vs := ""
				if o.NaiveRMSE > 0 {
					vs = fmt.Sprintf("%+.2f%%", 100*(o.RMSE-o.NaiveRMSE)/o.NaiveRMSE)
				}
				fmt.Fprintf(tw, "%s\t%s\tv%d\t%.4f\t%.4f\t%s\t%.3f\t%.3f\t%s\t%.0f\n", o.Ticker, o.Status, o.ModelVersion, o.RMSE, o.NaiveRMSE, vs, o.MASE, o.DMP, o.Alias, o.Seconds)
			}
		}
		tw.Flush()
	}
	for _, o := range r.Outcomes {
		if o.Status == pipeline.FleetFailed {
			fmt.Fprintf(w, "failed %s: %s\n", o.Ticker, o.Reason)
		}
	}
	fmt.Fprintf(w, "report: %s\ntable:  %s\n", r.Report, r.CSV)
}
