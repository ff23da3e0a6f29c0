package steps

import (
	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/model/arch"
)

// The backtest's steps.
const (
	// BacktestPlan joins the cleaned splits back into one series and cuts
	// it into folds (the plan needs the row count).
	BacktestPlan = "BacktestPlan"
	// BacktestFoldData fits a fold's scaler on its training rows only and
	// cuts its training, validation and test windows.
	BacktestFoldData = "BacktestFoldData"
	// BacktestScore predicts a fold's validation and test blocks with its
	// trained model, runs the baselines on the same targets, calibrates
	// the intervals and writes the fold's forecasts.
	BacktestScore = "BacktestScore"
	// BacktestSummarize scores every model across folds (backtest.Summarize)
	// and writes backtests/<id>/summary.json.
	BacktestSummarize = "BacktestSummarize"
	// BacktestReport draws the per-fold charts and writes report.html.
	BacktestReport = "BacktestReport"
)

// BacktestPlanInput is the cleaned splits and the fold spec.
type BacktestPlanInput struct {
	Cleaned Splits        `json:"cleaned"`
	Spec    backtest.Spec `json:"spec"`
}

// BacktestPlanResult is the joined series and its folds, oldest first.
type BacktestPlanResult struct {
	Series    blob.Ref        `json:"series"`
	Folds     []backtest.Fold `json:"folds"`
	FirstDate string          `json:"first_date"`
	LastDate  string          `json:"last_date"`
}

// BacktestFoldDataInput is one fold's ranges of the series.
type BacktestFoldDataInput struct {
	Series   blob.Ref           `json:"series"`
	Fold     backtest.Fold      `json:"fold"`
	Spec     prep.TransformSpec `json:"spec"`
	Lookback int                `json:"lookback"`
	Horizon  int                `json:"horizon"`
}

// BacktestFoldDataResult is the fold's fitted transform and its windows
// (Train, Val and Test, the same shape the training steps read).
type BacktestFoldDataResult struct {
	Transform blob.Ref `json:"transform"`
	Windows   Splits   `json:"windows"`
	// The first training day, the last training day and the test block's
	// first and last days.
	TrainFirst string  `json:"train_first"`
	TrainLast  string  `json:"train_last"`
	TestFirst  string  `json:"test_first"`
	TestLast   string  `json:"test_last"`
	TrainMax   float64 `json:"train_max"` // largest Open of the training rows
}

// BacktestScoreInput is one fold's trained model and what to score it on.
type BacktestScoreInput struct {
	Key       string        `json:"key"` // where the fold's forecasts go
	Series    blob.Ref      `json:"series"`
	Fold      backtest.Fold `json:"fold"`
	Weights   blob.Ref      `json:"weights"`
	Config    arch.Config   `json:"config"`
	Transform blob.Ref      `json:"transform"`
	Windows   Splits        `json:"windows"`
	Horizon   int           `json:"horizon"`
	Levels    []float64     `json:"levels"`
	HalfLife  float64       `json:"ewma_half_life,omitempty"`
}

// BacktestScoreResult references the fold's forecasts and its intervals.
type BacktestScoreResult struct {
	Forecasts blob.Ref                  `json:"forecasts"`
	Intervals []pipeline.ModelIntervals `json:"intervals"`
}

// BacktestSummarizeInput is every fold of a finished backtest.
type BacktestSummarizeInput struct {
	BacktestID string                        `json:"backtest_id"`
	Folds      []pipeline.BacktestFoldResult `json:"folds"`
	Horizon    int                           `json:"horizon"`
}

// BacktestSummarizeResult is each model across folds.
type BacktestSummarizeResult struct {
	Summary    []backtest.ModelSummary    `json:"summary"`
	Intervals  []pipeline.IntervalSummary `json:"intervals"`
	SummaryURI string                     `json:"summary_uri"`
}

// BacktestReportInput is a finished backtest.
type BacktestReportInput struct {
	Result pipeline.BacktestResult `json:"result"`
}

// BacktestReportResult says where the report went.
type BacktestReportResult struct {
	ReportURI string `json:"report_uri"`
}
