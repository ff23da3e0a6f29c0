package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/report"
)

// backtestRequest is a parsed `starter backtest`.
type backtestRequest struct {
	cfg          config.Config
	in           pipeline.BacktestInput
	id           string
	wait, asJSON bool
	every        time.Duration
}

// backtestCmd uploads the CSV (or finds the champion's data), starts a
// Backtest and, with --wait, follows it and prints its summary table.
func backtestCmd(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	req, err := parseBacktest(ctx, args, cfg)
	if err != nil {
		return err
	}
	c, err := dial(req.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: req.id, TaskQueue: req.cfg.TaskQueue}, pipeline.BacktestWorkflow, req.in)
	if err != nil {
		return fmt.Errorf("start %s %s: %w", pipeline.BacktestWorkflow, req.id, err)
	}
	if !req.asJSON {
		data := "the champion's training data"
		if req.in.CSVKey != "" {
			data = req.in.CSVKey
		}
		fmt.Fprintf(stdout, "started %s of %s on %s: %d folds (%s), %d at once\n  workflow id: %s\n  web ui:      %s\n",
			pipeline.BacktestWorkflow, req.in.Ticker, data, req.in.Spec.Folds, modeOf(req.in.Spec), req.in.Parallel, run.GetID(), req.cfg.WorkflowURL(run.GetID()))
	}
	if !req.wait && !req.asJSON {
		fmt.Fprintf(stdout, "  status:      starter status %s\n  report:      backtests/%s/report.html in the store when it ends\n", run.GetID(), run.GetID())
		return nil
	}
	if !req.asJSON {
		followBacktest(ctx, c, run.GetID(), stdout, req.every)
	}
	var res pipeline.BacktestResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("backtest %s failed: %w", run.GetID(), err)
	}
	if req.asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	if err := report.BacktestTable(stdout, res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report:  %s\nsummary: %s\n", res.ReportURI, res.SummaryURI)
	return nil
}

func modeOf(s backtest.Spec) string {
	if s.Mode == "" {
		return string(backtest.Expanding)
	}
	return string(s.Mode)
}

// parseBacktest reads the flags, checks them, uploads the CSV (or checks
// that the ticker has a model whose data can be used) and builds the input.
func parseBacktest(ctx context.Context, args []string, cfg config.Config) (backtestRequest, error) {
	fs := newFlagSet("backtest")
	cfg.FlagsFor(fs, flagsOf(dialFlags(), queueFlag, config.StoreFlags, uiFlag)...)
	in := pipeline.BacktestInput{Spec: backtest.Spec{Folds: pipeline.DefaultBacktestFolds}, Parallel: pipeline.DefaultBacktestParallel}
	fs.StringVar(&in.Ticker, "ticker", "", "ticker symbol (required)")
	csv := fs.String("csv", "", "local CSV of daily prices (default: the data the ticker's champion was trained on)")
	bindBacktestFlags(fs, &in)
	levels := fs.String("levels", "0.8,0.95", "comma-separated prediction-interval levels, each between 0 and 1")
	id := fs.String("id", "", "the backtest's workflow id (default backtest-<TICKER>-<UTC time>)")
	wait := fs.Bool("wait", false, "follow the backtest and print its summary table")
	asJSON := fs.Bool("json", false, "print the result as one JSON object (implies --wait)")
	every := fs.Duration("every", 2*time.Second, "how often --wait asks for progress")
	if err := parseFlags(fs, args); err != nil {
		return backtestRequest{}, err
	}
	if fs.NArg() > 0 {
		return backtestRequest{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if in.Levels, err = parseBacktestLevels(*levels); err != nil {
		return backtestRequest{}, err
	}
	if in.Ticker, err = pipeline.NormalizeTicker(in.Ticker); err != nil {
		return backtestRequest{}, fmt.Errorf("--ticker: %w", err)
	}
	if err := in.WithDefaults().Check(); err != nil {
		return backtestRequest{}, err // before the store is touched
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return backtestRequest{}, err
	}
	if in.CSVKey, in.Source, err = backtestData(ctx, store, in.Ticker, *csv); err != nil {
		return backtestRequest{}, err
	}
	wid := *id
	if wid == "" {
		wid = pipeline.BacktestWorkflowID(in.Ticker, time.Now())
	}
	return backtestRequest{cfg: cfg, in: in, id: wid, wait: *wait, asJSON: *asJSON, every: max(*every, 100*time.Millisecond)}, nil
}

// bindBacktestFlags binds the fold plan and the model settings.
func bindBacktestFlags(fs *flag.FlagSet, in *pipeline.BacktestInput) {
	d := pipeline.BacktestInput{}.WithDefaults()
	in.Model = d.Model
	fs.IntVar(&in.Spec.Folds, "folds", in.Spec.Folds, "folds: test blocks, each scored by a model trained on the rows before it")
	fs.IntVar(&in.Spec.TestLen, "fold-len", 0, "rows per test block (0: rows / (folds+1), the blocks ending at the last row)")
	fs.IntVar(&in.Spec.Step, "step", 0, "rows between test block starts (0: --fold-len, back to back)")
	fs.Func("mode", "expanding (every fold trains from the first row) or sliding (every fold's history has the same length)", func(s string) error {
		in.Spec.Mode = backtest.Mode(s)
		return nil
	})
	fs.IntVar(&in.Spec.TrainLen, "train-len", 0, "sliding mode: rows of history (training + validation) per fold (0: all the first fold has)")
	fs.IntVar(&in.Spec.ValLen, "val-len", 0, "validation rows at the end of each fold's history (0: an eighth of it)")
	fs.IntVar(&in.Parallel, "parallel", in.Parallel, "folds trained at once")
	fs.IntVar(&in.Model.Epochs, "epochs", in.Model.Epochs, "training epochs per fold")
	fs.IntVar(&in.Model.Units, "units", in.Model.Units, "LSTM units per layer")
	fs.IntVar(&in.Model.Layers, "layers", in.Model.Layers, "LSTM layers")
	fs.IntVar(&in.Model.BatchSize, "batch", in.Model.BatchSize, "mini-batch size")
	fs.Float64Var(&in.Model.LearningRate, "lr", in.Model.LearningRate, "Adam learning rate")
	fs.Int64Var(&in.Model.Seed, "seed", in.Model.Seed, "random seed of weights and batch order")
	fs.IntVar(&in.Lookback, "lookback", d.Lookback, "days of prices per input window")
	fs.IntVar(&in.Horizon, "horizon", d.Horizon, "days ahead to forecast")
	fs.Float64Var(&in.HalfLife, "ewma-half-life", 0, "half-life in rows of the EWMA baseline's mean return (0: 20)")
}

// parseBacktestLevels reads "0.8,0.95".
func parseBacktestLevels(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0 && v < 1) {
			return nil, fmt.Errorf("--levels: %q is not a level between 0 and 1 (e.g. 0.8,0.95)", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// backtestData uploads csv, or, without one, checks that the ticker has a
// registered model: the backtest then runs on the raw data that model
// (the champion, else the latest) was trained on.
func backtestData(ctx context.Context, store blob.Store, ticker, csv string) (key, source string, err error) {
	if csv != "" {
		up, err := launch.UploadFile(ctx, store, csv)
		if err != nil {
			return "", "", err
		}
		return up.Key, up.Name, nil
	}
	err = launch.CheckBacktestData(ctx, store, ticker, "")
	var fe *pipeline.FieldError
	if errors.As(err, &fe) {
		return "", "", fmt.Errorf("%s has no registered model whose data a backtest could use: give --csv FILE", ticker)
	}
	if err != nil {
		return "", "", err
	}
	return "", "registry:" + ticker, nil
}

// followBacktest prints the backtest's progress when it changes, until it
// ends or stops answering.
func followBacktest(ctx context.Context, c client.Client, id string, stdout io.Writer, every time.Duration) {
	last := ""
	for {
		v, err := c.QueryWorkflow(ctx, id, "", pipeline.ProgressQuery)
		if err != nil {
			return // ended, or gone: the result says which
		}
		var p pipeline.BacktestProgress
		if v.Get(&p) != nil {
			return
		}
		line := fmt.Sprintf("%s: %d/%d folds done, running %v", p.Stage, p.Done, p.Folds, p.Running)
		if line != last {
			fmt.Fprintf(stdout, "%s  %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
		if p.Stage == "done" {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
