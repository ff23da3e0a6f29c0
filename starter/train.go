package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
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
	in.SearchAttributes = hasSearchAttributes(ctx, c, cfg.Namespace)
	run, how, err := startTraining(ctx, c, client.StartWorkflowOptions{ID: req.id, TaskQueue: cfg.TaskQueue}, in)
	if err != nil {
		return err
	}
	if !req.asJSON {
		switch how {
		case startedNew:
			fmt.Fprintf(stdout, "started %s\n", pipeline.TrainingWorkflow)
		case attachedRunning:
			fmt.Fprintf(stdout, "already running: attached to the %s started earlier with these arguments\n", pipeline.TrainingWorkflow)
		case alreadyCompleted:
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

// parseTrain parses the flags, uploads a local CSV and derives the workflow
// id; it does not talk to Temporal.
func parseTrain(ctx context.Context, args []string, cfg config.Config) (trainRequest, error) {
	fs := newFlagSet("train")
	cfg.FlagsFor(fs, flagsOf(dialFlags(), queueFlag, config.StoreFlags, uiFlag)...)
	d := pipeline.DefaultModelParams()
	ticker := fs.String("ticker", "", "ticker symbol (required)")
	src := addSourceFlags(fs)
	epochs := fs.Int("epochs", d.Epochs, "training epochs")
	units := fs.Int("units", d.Units, "LSTM units per layer")
	layers := fs.Int("layers", d.Layers, "LSTM layers")
	dropout := fs.Float64("dropout", d.Dropout, "dropout between LSTM layers")
	lr := fs.Float64("lr", d.LearningRate, "Adam learning rate")
	batch := fs.Int("batch", d.BatchSize, "mini-batch size")
	seed := fs.Int64("seed", d.Seed, "random seed of weights and batch order")
	lookback := fs.Int("lookback", 50, "days of prices per input window")
	horizon := fs.Int("horizon", 1, "days ahead to forecast")
	clip := fs.Float64("clip-norm", d.ClipNorm, "max global gradient norm (0 = none)")
	decay := fs.Float64("lr-decay", 0, "learning rate × this after each epoch (0 = constant)")
	patience := fs.Int("patience", 0, "early stopping after N epochs without a better validation loss (0 = never)")
	dc, dt := prep.DefaultCleanSpec(), prep.DefaultTransformSpec()
	missing := fs.String("missing", dc.Missing, "missing values: ffill, interpolate or drop")
	outliers := fs.String("outliers", dc.Outliers.Method, "outlier detection on daily returns: zscore, iqr or none")
	outlierK := fs.Float64("outlier-k", dc.Outliers.K, "outlier threshold (robust z or IQR multiples)")
	outlierAction := fs.String("outlier-action", dc.Outliers.Strategy, "what to do with outliers: flag, clip or drop")
	target := fs.String("target", dt.Target, "what the model predicts: logret (log-return of Open) or price (scaled Open)")
	scaler := fs.String("scaler", dt.Scaler, "scaler: standard or minmax")
	features := fs.String("features", strings.Join(dt.Features, ","), "comma-separated inputs: open,high,low,close,adj_close,volume")
	trials := fs.Int("trials", 0, "hyperparameter search trials before training (0 = no search)")
	concurrency := fs.Int("concurrency", 2, "search trials in flight at once")
	sampler := fs.String("sampler", "tpe", "search sampler: tpe or random")
	trialEpochs := fs.Int("trial-epochs", 3, "epochs per search trial")
	margin := fs.Float64("margin", 0, "promotion: how much worse than naive (RMSE share, 0.05 = 5%) a new champion may be")
	force := fs.Bool("force-promote", false, "make the new model champion whatever the gate says (recorded)")
	device := fs.String("run-device", "auto", "where training runs: auto (any worker) or cuda (workers on the GPU task queue)")
	wait := fs.Bool("wait", false, "wait for the pipeline and print its result")
	asJSON := fs.Bool("json", false, "print the result as one JSON object (implies --wait)")
	newRun := fs.Bool("new-run", false, "train again even if the same arguments already ran: the workflow id gets a time suffix "+
		"(without it the id is train-<TICKER>-<data hash>-<parameters hash>, and the same request attaches to its running run "+
		"or reports its completed one; a failed run is retried)")
	if err := parseFlags(fs, args); err != nil {
		return trainRequest{}, err
	}
	if fs.NArg() > 0 {
		return trainRequest{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	t, err := pipeline.NormalizeTicker(*ticker)
	if err != nil {
		return trainRequest{}, err
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return trainRequest{}, err
	}
	source, err := src.resolve(ctx, store)
	if err != nil {
		return trainRequest{}, err
	}
	in := pipeline.TrainingInput{
		Ticker: t, CSVKey: source.csvKey, Format: source.format, Download: source.download, Source: source.label, Lookback: *lookback, Horizon: *horizon,
		Model: pipeline.ModelParams{Layers: *layers, Units: *units, Dropout: *dropout, Epochs: *epochs,
			BatchSize: *batch, LearningRate: *lr, Seed: *seed, ClipNorm: *clip, LRDecay: *decay, Patience: *patience},
		Clean:     prep.CleanSpec{Missing: *missing, Outliers: prep.OutlierSpec{Method: *outliers, K: *outlierK, Strategy: *outlierAction}},
		Transform: prep.TransformSpec{Target: *target, Scaler: *scaler, Features: strings.Split(*features, ",")},
		Tune:      pipeline.TuneSpec{Trials: *trials, Concurrency: *concurrency, Sampler: *sampler, Epochs: *trialEpochs, Seed: *seed},
		Device:    *device, PromotionMargin: *margin, ForcePromote: *force,
	}.WithDefaults()
	if err := in.Clean.Validate(); err != nil {
		return trainRequest{}, err
	}
	if err := in.Transform.Validate(); err != nil {
		return trainRequest{}, err
	}
	dataPart, err := dataIDPart(ctx, store, source)
	if err != nil {
		return trainRequest{}, err
	}
	id, err := trainingWorkflowID(in, dataPart, *newRun, time.Now())
	if err != nil {
		return trainRequest{}, err
	}
	return trainRequest{cfg: cfg, in: in, id: id, wait: *wait, asJSON: *asJSON}, nil
}

// uploadCSV copies a local CSV into the store under its content hash, so
// workers on other machines can read it and the same file is stored once.
func uploadCSV(ctx context.Context, store blob.Store, path string) (key, sum string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("read csv: %w", err)
	}
	sum = blob.ContentHash(b)
	key = pipeline.UploadKey(sum)
	if err := store.PutIfAbsent(ctx, key, bytes.NewReader(b)); err != nil && !errors.Is(err, blob.ErrExists) {
		return "", "", fmt.Errorf("upload %s: %w", path, err)
	}
	return key, sum, nil
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
