package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
)

func train(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	req, err := parseTrain(ctx, args, cfg)
	if err != nil {
		return err
	}
	cfg, in := req.cfg, req.in
	c, err := dial(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	in.SearchAttributes = launch.HasSearchAttributes(ctx, c, cfg.Namespace)
	run, how, err := launch.StartTraining(ctx, c, client.StartWorkflowOptions{ID: req.id, TaskQueue: cfg.TaskQueue}, in)
	if err != nil {
		return err
	}
	if !req.asJSON {
		switch how {
		case launch.StartedNew:
			fmt.Fprintf(stdout, "started %s\n", pipeline.TrainingWorkflow)
		case launch.AttachedRunning:
			fmt.Fprintf(stdout, "already running: attached to the %s started earlier with these arguments\n", pipeline.TrainingWorkflow)
		case launch.AlreadyCompleted:
			fmt.Fprintf(stdout, "already completed: a %s with these arguments finished earlier (--new-run trains again)\n", pipeline.TrainingWorkflow)
		}
		fmt.Fprintf(stdout, "  workflow id: %s\n  run id:      %s\n  web ui:      %s\n", run.GetID(), run.GetRunID(), cfg.WorkflowURL(run.GetID()))
	}
	if !req.wait && !req.asJSON {
		return nil
	}
	if !req.asJSON {
		followRun(ctx, c, run, stdout)
	}
	var res pipeline.TrainingResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("workflow %s failed: %w", run.GetID(), err)
	}
	if req.asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	printTrainingResult(stdout, res)
	return nil
}

// followRun shows run's progress (a bar on a terminal, lines otherwise)
// until it ends. Following is a view: when it fails (the frontend gone),
// the caller's wait for the result says what went wrong.
func followRun(ctx context.Context, c client.Client, run client.WorkflowRun, stdout io.Writer) {
	view := newProgressView(stdout)
	final, err := follow(ctx, c, run.GetID(), run.GetRunID(), view, watchEvery)
	if err != nil {
		return
	}
	st := statusOf(final)
	view.finish(st.String(), st == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
}

// trainRequest is a parsed `starter train`: the pipeline's input (the CSV
// uploaded), its workflow id, and how to report.
type trainRequest struct {
	cfg          config.Config
	in           pipeline.TrainingInput
	id           string
	wait, asJSON bool
}

// parseTrain parses the flags into a pipeline.TrainRequest (the request
// POST /train reads as JSON), checks it, uploads a local CSV and derives
// the workflow id (launch.PrepareTraining, as the API does); it does not
// talk to Temporal.
func parseTrain(ctx context.Context, args []string, cfg config.Config) (trainRequest, error) {
	fs := newFlagSet("train")
	cfg.FlagsFor(fs, flagsOf(dialFlags(), queueFlag, config.StoreFlags, uiFlag)...)
	r := pipeline.DefaultTrainRequest()
	fs.StringVar(&r.Ticker, "ticker", "", "ticker symbol (required)")
	src := addSourceFlags(fs, &r.DataRequest)
	bindTrainFlags(fs, &r)
	wait := fs.Bool("wait", false, "wait for the pipeline and print its result")
	asJSON := fs.Bool("json", false, "print the result as one JSON object (implies --wait)")
	fs.BoolVar(&r.NewRun, "new-run", r.NewRun, "train again even if the same arguments already ran: the workflow id gets a time suffix "+
		"(without it the id is train-<TICKER>-<data hash>-<parameters hash>, and the same request attaches to its running run "+
		"or reports its completed one; a failed run is retried)")
	if err := parseFlags(fs, args); err != nil {
		return trainRequest{}, err
	}
	if fs.NArg() > 0 {
		return trainRequest{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := r.Check(*src.csv != ""); err != nil {
		return trainRequest{}, flagError(err) // before the store is touched
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return trainRequest{}, err
	}
	up, err := src.upload(ctx, store)
	if err != nil {
		return trainRequest{}, err
	}
	tr, err := launch.PrepareTraining(ctx, store, r, up, time.Now())
	if err != nil {
		return trainRequest{}, flagError(err)
	}
	return trainRequest{cfg: cfg, in: tr.Input, id: tr.ID, wait: *wait, asJSON: *asJSON}, nil
}

// bindTrainFlags binds the model, data-preparation, search and promotion
// settings of a training request (`starter train` and `starter fleet`).
func bindTrainFlags(fs *flag.FlagSet, r *pipeline.TrainRequest) {
	fs.IntVar(&r.Epochs, "epochs", r.Epochs, "training epochs")
	fs.IntVar(&r.Units, "units", r.Units, "LSTM units per layer")
	fs.IntVar(&r.Layers, "layers", r.Layers, "LSTM layers")
	fs.Float64Var(&r.Dropout, "dropout", r.Dropout, "dropout between LSTM layers")
	fs.Float64Var(&r.LR, "lr", r.LR, "Adam learning rate")
	fs.IntVar(&r.Batch, "batch", r.Batch, "mini-batch size")
	fs.Int64Var(&r.Seed, "seed", r.Seed, "random seed of weights and batch order")
	fs.IntVar(&r.Lookback, "lookback", r.Lookback, "days of prices per input window")
	fs.IntVar(&r.Horizon, "horizon", r.Horizon, "days ahead to forecast")
	fs.Float64Var(&r.ClipNorm, "clip-norm", r.ClipNorm, "max global gradient norm (0 = none)")
	fs.Float64Var(&r.LRDecay, "lr-decay", r.LRDecay, "learning rate × this after each epoch (0 = constant)")
	fs.IntVar(&r.Patience, "patience", r.Patience, "early stopping after N epochs without a better validation loss (0 = never)")
	fs.StringVar(&r.Missing, "missing", r.Missing, "missing values: ffill, interpolate or drop")
	fs.StringVar(&r.Outliers, "outliers", r.Outliers, "outlier detection on daily returns: zscore, iqr or none")
	fs.Float64Var(&r.OutlierK, "outlier-k", r.OutlierK, "outlier threshold (robust z or IQR multiples)")
	fs.StringVar(&r.OutlierAction, "outlier-action", r.OutlierAction, "what to do with outliers: flag, clip or drop")
	fs.StringVar(&r.Target, "target", r.Target, "what the model predicts: logret (log-return of Open) or price (scaled Open)")
	fs.StringVar(&r.Scaler, "scaler", r.Scaler, "scaler: standard or minmax")
	fs.StringVar(&r.Features, "features", r.Features, "comma-separated inputs: open,high,low,close,adj_close,volume")
	fs.IntVar(&r.Trials, "trials", r.Trials, "hyperparameter search trials before training (0 = no search)")
	fs.IntVar(&r.Concurrency, "concurrency", r.Concurrency, "search trials in flight at once")
	fs.StringVar(&r.Sampler, "sampler", r.Sampler, "search sampler: tpe or random")
	fs.IntVar(&r.TrialEpochs, "trial-epochs", r.TrialEpochs, "epochs per search trial")
	fs.Float64Var(&r.Margin, "margin", r.Margin, "promotion: how much worse than naive (RMSE share, 0.05 = 5%) a new champion may be")
	fs.BoolVar(&r.ForcePromote, "force-promote", r.ForcePromote, "make the new model champion whatever the gate says (recorded)")
	fs.StringVar(&r.RunDevice, "run-device", r.RunDevice, "where training runs: auto (any worker) or cuda (workers on the GPU task queue)")
	fs.StringVar(&r.Levels, "levels", r.Levels, "prediction-interval levels, comma-separated, each between 0 and 1, at most 5 "+
		"(calibrated on validation residuals, stored with the model, answered by /predict)")
	fs.StringVar(&r.Gate, "gate", r.Gate, "promotion gate: split (the test split's RMSE vs naive, within --margin; the default) "+
		"or backtest (a walk-forward backtest: pooled Diebold–Mariano p < --alpha with the model better than naive)")
	fs.Float64Var(&r.Alpha, "alpha", r.Alpha, "the backtest gate's significance level (0 = 0.05)")
}

func printTrainingResult(w io.Writer, r pipeline.TrainingResult) {
	m := r.Metrics
	fmt.Fprintf(w, "%s model v%d registered as %s (%s)\n", r.Ticker, r.ModelVersion, r.Promotion.Alias, r.ModelURI)
	fmt.Fprintf(w, "  promotion: %s\n", r.Promotion.Reason)
	fmt.Fprintf(w, "  data: %s (%d rows, %d values filled, %d rows dropped, %d outlying returns), windows train/val/test %d/%d/%d\n",
		r.Raw.SHA256[:12], r.Raw.Rows, r.FilledValues, r.DroppedRows, r.Outliers, r.Windows[0], r.Windows[1], r.Windows[2])
	fmt.Fprintf(w, "  anomalies: %d critical, %d warning, %d info (starter run %s shows them)\n",
		r.Anomalies["critical"], r.Anomalies["warning"], r.Anomalies["info"], r.WorkflowID)
	if r.Plots != "" {
		fmt.Fprintf(w, "  plots: %s/\n", r.Plots)
	}
	fmt.Fprintf(w, "  test %s..%s, %d days, price units:\n", m.FirstDate, m.LastDate, m.N)
	fmt.Fprintf(w, "    %-6s %10s %10s %8s\n", "", "RMSE", "MAE", "MAPE%")
	fmt.Fprintf(w, "    %-6s %10.4f %10.4f %8.3f\n", "model", m.TestRMSE, m.TestMAE, m.TestMAPE)
	fmt.Fprintf(w, "    %-6s %10.4f %10.4f %8.3f\n", "naive", m.NaiveRMSE, m.NaiveMAE, m.NaiveMAPE)
	printIntervals(w, m.Intervals)
	for _, tr := range r.Tuning {
		if tr.ID == r.BestTrial {
			pruned := 0
			for _, o := range r.Tuning {
				if o.Pruned {
					pruned++
				}
			}
			p := tr.Params
			fmt.Fprintf(w, "  search: %d trials (%d pruned), best #%d → %d×LSTM(%d) dropout %.2f lr %.2g batch %d\n",
				len(r.Tuning), pruned, tr.ID, p.Layers, p.Units, p.Dropout, p.LearningRate, p.BatchSize)
		}
	}
	if r.Training.ResumedFrom > 0 {
		fmt.Fprintf(w, "  training resumed from the epoch-%d checkpoint (attempt %d)\n", r.Training.ResumedFrom, r.Training.Attempt)
	}
	verdict := "beats"
	if m.TestRMSE >= m.NaiveRMSE {
		verdict = "does NOT beat"
	}
	fmt.Fprintf(w, "  the model %s the naive forecast (next Open = today's Open) on RMSE\n", verdict)
}

// printIntervals writes each level's test coverage and mean width, model
// beside naive.
func printIntervals(w io.Writer, iv *metrics.Intervals) {
	if iv == nil || len(iv.Test) == 0 {
		return
	}
	fmt.Fprintf(w, "  prediction intervals on the test split (calibrated on %d validation residuals):\n", iv.Model[0].N)
	for _, r := range iv.Test {
		fmt.Fprintf(w, "    %4.1f%%: coverage model %5.1f%% naive %5.1f%%, mean width model %.4f naive %.4f\n",
			100*r.Level, 100*r.ModelCoverage, 100*r.NaiveCoverage, r.ModelWidth, r.NaiveWidth)
	}
}
