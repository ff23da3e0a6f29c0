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
}
