package pipeline

import (
	"fmt"
	"math"
	"time"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/validate"
)

// Backtest workflows: the walk-forward evaluation of a ticker and one fold
// of it (a child per fold, <backtest id>-fold-<k>).
const (
	BacktestWorkflow     = "Backtest"
	BacktestFoldWorkflow = "BacktestFold"
)

// Defaults of a BacktestInput.
const (
	DefaultBacktestFolds    = 8
	DefaultBacktestParallel = 2
)

// ModelLSTM is the trained model's name in backtest summaries, beside the
// baselines' (baseline.Kinds).
const ModelLSTM = "lstm"

// BacktestInput starts a Backtest: K folds over one ticker's history, each
// training a model on the past and scoring it, and the baselines, on the
// block of rows after it. Nothing is registered or promoted.
type BacktestInput struct {
	Ticker string `json:"ticker"`
	// CSVKey is a CSV in the store; empty: the raw data the ticker's
	// champion (else its latest version) was trained on.
	CSVKey string          `json:"csv_key,omitempty"`
	Format frame.CSVFormat `json:"format,omitzero"`
	Source string          `json:"source,omitempty"` // where the CSV came from, for people
	// Spec chooses the folds; its Lookback and Horizon are set from the
	// input's own.
	Spec      backtest.Spec      `json:"spec"`
	Lookback  int                `json:"lookback"`
	Horizon   int                `json:"horizon"`
	Model     ModelParams        `json:"model"`
	Transform prep.TransformSpec `json:"transform"`
	Validate  validate.Config    `json:"validate"`
	Parallel  int                `json:"parallel"` // folds trained at once
	// Levels are the conformal interval levels (0.8 and 0.95 by default),
	// calibrated on each fold's validation residuals.
	Levels []float64 `json:"levels,omitempty"`
	// HalfLife is the EWMA baseline's half-life in rows (0: the default).
	HalfLife float64 `json:"ewma_half_life,omitempty"`
	Device   string  `json:"device,omitempty"` // "cuda": train on the GPU queue
}

// WithDefaults fills what was left zero, with the training pipeline's
// defaults for the model and data settings.
func (in BacktestInput) WithDefaults() BacktestInput {
	tr := TrainingInput{Lookback: in.Lookback, Horizon: in.Horizon, Model: in.Model, Transform: in.Transform}.WithDefaults()
	in.Lookback, in.Horizon, in.Model, in.Transform = tr.Lookback, tr.Horizon, tr.Model, tr.Transform
	if in.Spec.Folds == 0 {
		in.Spec.Folds = DefaultBacktestFolds
	}
	in.Spec.Lookback, in.Spec.Horizon = in.Lookback, in.Horizon
	if in.Parallel == 0 {
		in.Parallel = DefaultBacktestParallel
	}
	if len(in.Levels) == 0 {
		in.Levels = conformal.DefaultLevels()
	}
	return in
}

// Check refuses what no data can fix: call it on WithDefaults' result.
func (in BacktestInput) Check() error {
	if _, err := NormalizeTicker(in.Ticker); err != nil {
		return err
	}
	if err := in.Spec.Validate(); err != nil {
		return err
	}
	if in.Parallel < 1 {
		return fmt.Errorf("backtest: parallel must be at least 1, got %d", in.Parallel)
	}
	if err := CheckIntervalLevels(in.Levels); err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	if math.IsNaN(in.HalfLife) || in.HalfLife < 0 || math.IsInf(in.HalfLife, 0) {
		return fmt.Errorf("backtest: ewma half-life must be a positive number of rows, got %g", in.HalfLife)
	}
	if err := in.Transform.Validate(); err != nil {
		return err
	}
	if in.Model.Epochs < 1 {
		return fmt.Errorf("backtest: epochs must be at least 1, got %d", in.Model.Epochs)
	}
	return nil
}

// BacktestFoldInput is one fold: the whole cleaned series (the fold reads
// only its own ranges of it) and how to train and score.
type BacktestFoldInput struct {
	BacktestID string             `json:"backtest_id"`
	Ticker     string             `json:"ticker"`
	Series     blob.Ref           `json:"series"`
	Fold       backtest.Fold      `json:"fold"`
	Lookback   int                `json:"lookback"`
	Horizon    int                `json:"horizon"`
	Model      ModelParams        `json:"model"`
	Transform  prep.TransformSpec `json:"transform"`
	Levels     []float64          `json:"levels"`
	HalfLife   float64            `json:"ewma_half_life,omitempty"`
	Device     string             `json:"device,omitempty"`
}

// ModelIntervals are one model's conformal bands on one fold, calibrated
// on the fold's validation residuals and measured on its test block.
// With Scale metrics.ScaleLastOpen (the kind /predict serves) residuals
// are divided by each target's window last Open and a Result's HalfWidth
// is a share of it; Width and Coverage are on the test days in price
// units either way (Width the mean over the days).
type ModelIntervals struct {
	Model   string             `json:"model"`
	Scale   string             `json:"scale,omitempty"` // empty: half-widths in price units
	Results []conformal.Result `json:"results"`         // one per level
}

// BacktestFoldResult is what one fold leaves: its forecasts in the store
// and small scores.
type BacktestFoldResult struct {
	Fold      backtest.Fold `json:"fold"`
	Forecasts blob.Ref      `json:"forecasts"` // Arrow: date, actual, last, one column per model
	// Dates bound the fold's parts: first training day, first and last
	// validation and test days.
	TrainFirst string `json:"train_first"`
	TrainLast  string `json:"train_last"`
	TestFirst  string `json:"test_first"`
	TestLast   string `json:"test_last"`
	Windows    [3]int `json:"windows"` // train, validation, test windows
	// TrainMax is the largest training-row Open the fold's scaler saw: a
	// reader can check it against the test block (no future inside).
	TrainMax float64 `json:"train_max"`
	Epochs   int     `json:"epochs"`
	// ResumedFrom is the checkpoint epoch the fold's final training
	// attempt resumed from (0: it ran from the start).
	ResumedFrom int              `json:"resumed_from,omitempty"`
	Intervals   []ModelIntervals `json:"intervals"`
}

// IntervalSummary is one model's band at one level across folds.
type IntervalSummary struct {
	Model string  `json:"model"`
	Level float64 `json:"level"`
	// Scale is the folds' (ModelIntervals.Scale); MeanWidth is in price
	// units whatever it is.
	Scale        string  `json:"scale,omitempty"`
	MeanCoverage float64 `json:"mean_coverage"`
	MinCoverage  float64 `json:"min_coverage"`
	MeanWidth    float64 `json:"mean_width"`
	// WidthVsNaive is MeanWidth over naive's at the same level: below 1,
	// the model's bands are narrower (more useful) than naive's.
	WidthVsNaive metrics.Maybe `json:"width_vs_naive"`
	Folds        int           `json:"folds"`
}

// BacktestResult is a finished backtest.
type BacktestResult struct {
	BacktestID string                  `json:"backtest_id"`
	Ticker     string                  `json:"ticker"`
	Raw        blob.Ref                `json:"raw"`
	Series     blob.Ref                `json:"series"` // the cleaned series the folds were cut from
	Spec       backtest.Spec           `json:"spec"`
	Folds      []BacktestFoldResult    `json:"folds"`
	Summary    []backtest.ModelSummary `json:"summary"`
	Intervals  []IntervalSummary       `json:"intervals"`
	Levels     []float64               `json:"levels"`
	SummaryURI string                  `json:"summary_uri"` // backtests/<id>/summary.json
	ReportURI  string                  `json:"report_uri"`  // backtests/<id>/report.html
	Started    time.Time               `json:"started"`
	Finished   time.Time               `json:"finished"`
}

// BacktestDir is the store folder of a backtest's files.
func BacktestDir(id string) string { return "backtests/" + id + "/" }

// BacktestSummaryKey, BacktestReportKey and BacktestForecastsKey name a
// backtest's files in the store.
func BacktestSummaryKey(id string) string { return BacktestDir(id) + "summary.json" }

// BacktestReportKey is the backtest's HTML report.
func BacktestReportKey(id string) string { return BacktestDir(id) + "report.html" }

// BacktestForecastsKey is fold k's forecasts (Arrow).
func BacktestForecastsKey(id string, k int) string {
	return fmt.Sprintf("%sfolds/fold-%02d.arrow", BacktestDir(id), k)
}

// BacktestFoldID is fold k's child workflow id: a fold runs once per
// backtest whatever happens to workers.
func BacktestFoldID(backtestID string, k int) string { return fmt.Sprintf("%s-fold-%d", backtestID, k) }

// BacktestWorkflowID is a new backtest's id: backtest-<TICKER>-<UTC time>.
func BacktestWorkflowID(ticker string, now time.Time) string {
	return fmt.Sprintf("backtest-%s-%s", ticker, now.UTC().Format("20060102-150405"))
}

// BacktestProgress is what a Backtest's progress query answers.
type BacktestProgress struct {
	Stage   string `json:"stage"` // data, folds, summary, report, done
	Folds   int    `json:"folds"` // planned (0 before the plan)
	Done    int    `json:"done"`
	Running []int  `json:"running"` // fold indexes training or scoring now
}
