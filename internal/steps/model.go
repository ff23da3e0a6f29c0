package steps

import (
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/hpo"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/model/arch"
)

// TrainInput is the windowed data and the model settings of one run.
type TrainInput struct {
	RunID   string               `json:"run_id"`
	Windows Splits               `json:"windows"`
	Params  pipeline.ModelParams `json:"params"`
	// Init warm-starts from these weights (a registered model's, when
	// fine-tuning) instead of random ones; the architecture must match.
	Init *blob.Ref `json:"init,omitempty"`
}

// TrainResult references the trained weights and the learning curve.
type TrainResult struct {
	Weights blob.Ref             `json:"weights"`
	Config  arch.Config          `json:"config"`
	Curve   []pipeline.EpochLoss `json:"curve"`
	// TrainingRun (attempt, epochs resumed and run, best epoch, early
	// stop) is the contract's own type; its fields are inline in JSON.
	pipeline.TrainingRun
}

// TrialInput is one hyperparameter trial.
type TrialInput struct {
	Trial   int                  `json:"trial"`
	Windows Splits               `json:"windows"`
	Params  pipeline.ModelParams `json:"params"`
	Pruner  hpo.MedianPruner     `json:"pruner"`
	// Reference summarises the validation-loss curves of trials already
	// finished (per-epoch medians and counts); the median pruner compares
	// this trial against it after every epoch.
	Reference hpo.Reference `json:"reference"`
}

// TrialResult is what one trial reached.
type TrialResult struct {
	Trial    int                  `json:"trial"`
	Params   pipeline.ModelParams `json:"params"`
	ValCurve []float64            `json:"val_curve"` // validation loss per epoch
	Best     float64              `json:"best"`      // lowest validation loss
	Pruned   bool                 `json:"pruned"`
	Epochs   int                  `json:"epochs"` // epochs run
}

// EvaluateInput is a trained model and the data to score it on.
type EvaluateInput struct {
	RunID     string      `json:"run_id"`
	Weights   blob.Ref    `json:"weights"`
	Config    arch.Config `json:"config"`
	Transform blob.Ref    `json:"transform"`
	Test      blob.Ref    `json:"test"`
	// Val are the validation windows the prediction intervals are
	// calibrated on (zero: no intervals, as before they existed); Levels
	// are their levels (nil: conformal.DefaultLevels).
	Val    blob.Ref  `json:"val,omitzero"`
	Levels []float64 `json:"levels,omitempty"`
}

// EvaluateResult holds model and naive scores on the same test targets.
type EvaluateResult struct {
	Metrics     metrics.TestSummary `json:"metrics"`
	Efficacy    metrics.Efficacy    `json:"efficacy"`
	Predictions blob.Ref            `json:"predictions"` // date, actual, predicted, naive (Arrow)
}

// CompareInput is a new model's test predictions and a registered version
// to score on the same days.
type CompareInput struct {
	Ticker      string   `json:"ticker"`
	Version     int      `json:"version"`     // the new model's version, for naming ("" before registering)
	Base        int      `json:"base"`        // the registered version to compare with
	Predictions blob.Ref `json:"predictions"` // the new model's, from Evaluate
	Test        blob.Ref `json:"test"`        // the cleaned test bars the base is re-scored on
}

// RegisterInput is everything that makes up a model artifact.
type RegisterInput struct {
	Ticker    string               `json:"ticker"`
	RunID     string               `json:"run_id"`
	Weights   blob.Ref             `json:"weights"`
	Transform blob.Ref             `json:"transform"`
	Config    arch.Config          `json:"config"`
	Lookback  int                  `json:"lookback"`
	Horizon   int                  `json:"horizon"`
	Params    pipeline.ModelParams `json:"params"`
	Metrics   metrics.TestSummary  `json:"metrics"`
	Raw       blob.Ref             `json:"raw"`
	CSVKey    string               `json:"csv_key"`
	// Retrain: what the model was retrained from (nil for a training run).
	Retrain *RetrainLineage `json:"retrain,omitempty"`
}

// RetrainLineage names a retrained model's parents.
type RetrainLineage struct {
	BaseVersion int        `json:"base_version"`
	Mode        string     `json:"mode"`
	Parents     []blob.Ref `json:"parents"` // raw versions merged: the base's, then each new file's
	Files       []string   `json:"files"`   // the new CSVs in the store
}

// RegisterResult is the version the model got.
type RegisterResult struct {
	Version int    `json:"version"`
	URI     string `json:"uri"`
}

// PromoteInput is a freshly registered version and what it is judged on.
type PromoteInput struct {
	Ticker      string   `json:"ticker"`
	RunID       string   `json:"run_id"`
	Version     int      `json:"version"`
	Predictions blob.Ref `json:"predictions"` // the new model's test predictions
	Test        blob.Ref `json:"test"`        // the run's cleaned test bars
	Margin      float64  `json:"margin"`      // allowed RMSE excess over naive (0.05 = 5%)
	Force       bool     `json:"force"`
	// Gate is what the comparison with naive is judged on: "" or
	// pipeline.GateSplit, the test split within Margin; pipeline.GateBacktest,
	// the pooled Diebold–Mariano test of Backtest at level Alpha
	// (0 = pipeline.DefaultGateAlpha). The champion comparison stays on
	// the test split either way.
	Gate     string            `json:"gate,omitempty"`
	Alpha    float64           `json:"alpha,omitempty"`
	Backtest *BacktestEvidence `json:"backtest,omitempty"`
}

// BacktestEvidence is what the backtest gate judges a model on: the
// trained model's (pipeline.ModelLSTM) summary across the folds of a
// walk-forward backtest of the run's settings.
type BacktestEvidence struct {
	BacktestID string        `json:"backtest_id"`
	Folds      int           `json:"folds"`
	BeatNaive  int           `json:"beat_naive"` // folds with MASE < 1
	PooledN    int           `json:"pooled_n"`   // targets of all folds together
	DMStat     metrics.Maybe `json:"dm_stat"`    // pooled Diebold–Mariano; < 0: model better
	DMPValue   metrics.Maybe `json:"dm_p_value"` // two-sided
	SummaryURI string        `json:"summary_uri"`
}
