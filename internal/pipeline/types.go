// Package pipeline holds what the starter, the API, the workflows and the
// activities all need to agree on: workflow names, their input and result
// structs, and references to data in the blob store. It has no heavy
// dependencies, so the starter can use it without linking LibTorch.
package pipeline

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/validate"
)

// Workflow type names as registered on the worker.
const (
	TrainingWorkflow = "TrainingPipeline"
	ValidateWorkflow = "ValidateData"
	TuneWorkflow     = "Tune"

	// NotifyWorkflow delivers one notification (the Notify step with its
	// own retries); the pipelines start it and do not wait for it.
	NotifyWorkflow = "Notification"
)

// ModelParams are the architecture and training settings of a run.
type ModelParams struct {
	Layers       int     `json:"layers"`
	Units        int     `json:"units"`
	Dropout      float64 `json:"dropout"`
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LearningRate float64 `json:"learning_rate"`
	Seed         int64   `json:"seed"`
	ClipNorm     float64 `json:"clip_norm"` // max global gradient norm; 0 = none
	LRDecay      float64 `json:"lr_decay"`  // per-epoch learning-rate factor; 0 = constant
	Patience     int     `json:"patience"`  // early stopping; 0 = never
}

// DefaultModelParams are the reference project's shape: 2×LSTM(64).
func DefaultModelParams() ModelParams {
	return ModelParams{Layers: 2, Units: 64, Dropout: 0.2, Epochs: 10, BatchSize: 64, LearningRate: 1e-3, Seed: 1, ClipNorm: 1}
}

// TrainingInput starts a TrainingPipeline.
type TrainingInput struct {
	Ticker    string             `json:"ticker"`
	CSVKey    string             `json:"csv_key"`            // an uploaded CSV in the blob store
	Format    frame.CSVFormat    `json:"format,omitzero"`    // the CSV's columns and date format, when not detected
	Source    string             `json:"source"`             // where the CSV came from, for people
	Download  *DownloadSpec      `json:"download,omitempty"` // fetch from Yahoo Finance instead of CSVKey
	Train     float64            `json:"train_fraction"`
	Val       float64            `json:"val_fraction"`
	Test      float64            `json:"test_fraction"`
	Lookback  int                `json:"lookback"`
	Horizon   int                `json:"horizon"`
	Validate  validate.Config    `json:"validate"`
	Clean     prep.CleanSpec     `json:"clean"`
	Transform prep.TransformSpec `json:"transform"`
	Model     ModelParams        `json:"model"`
	Tune      TuneSpec           `json:"tune"`
	Device    string             `json:"device"` // "cuda" sends training to the GPU task queue; else any worker
	// GPUWait is how long a "cuda" run's GPU steps wait for a GPU worker to
	// pick them up before the run fails with NoGPUWorker (0 = 10 minutes).
	GPUWait time.Duration `json:"gpu_wait,omitempty"`
	// PromotionMargin is how much worse than naive (RMSE, 0.05 = 5%) a new
	// model may be and still become champion; ForcePromote skips the gate.
	PromotionMargin float64 `json:"promotion_margin"`
	ForcePromote    bool    `json:"force_promote"`
	// IntervalLevels are the prediction-interval levels calibrated for the
	// model (each 0 < level < 1, at most MaxIntervalLevels); nil means
	// conformal.DefaultLevels (80% and 95%). Left nil for the defaults so
	// the training workflow id of a request without levels is unchanged.
	IntervalLevels []float64 `json:"interval_levels,omitempty"`
	// Gate is what promotion judges the model on: "" (GateSplit), the
	// test split (RMSE against naive within PromotionMargin); GateBacktest,
	// a walk-forward backtest of the same settings (the pooled
	// Diebold–Mariano test across its folds says the model is better than
	// naive at level Alpha, 0 = DefaultGateAlpha). Both left zero by
	// default so the workflow id of a request without them is unchanged.
	Gate  string  `json:"gate,omitempty"`
	Alpha float64 `json:"alpha,omitempty"`
	// BacktestFolds are the folds of the backtest gate's walk-forward run
	// (0 = DefaultGateFolds): each is one more training of the model.
	BacktestFolds int `json:"backtest_folds,omitempty"`
	// SearchAttributes sets Ticker, Stage and ModelVersion on the workflow
	// (the starter turns it on when the server has them registered).
	SearchAttributes bool `json:"search_attributes"`
}

// Promotion gates (TrainingInput.Gate).
const (
	GateSplit    = "split"
	GateBacktest = "backtest"
)

// DefaultGateAlpha is GateBacktest's significance level when none is given.
const DefaultGateAlpha = 0.05

// DefaultGateFolds are GateBacktest's folds when none are given: fewer
// than a standalone backtest's (DefaultBacktestFolds) because each is one
// more training on the way to registering, yet enough pooled days for the
// Diebold–Mariano test to say something.
const DefaultGateFolds = 5

// GateAlpha is the backtest gate's significance level: alpha, or
// DefaultGateAlpha for 0.
func GateAlpha(alpha float64) float64 {
	if alpha == 0 {
		return DefaultGateAlpha
	}
	return alpha
}

// CheckGate checks a promotion gate and its level: gate "", split or
// backtest; alpha 0 (the default) or strictly between 0 and 1, and only
// with the backtest gate, the one that tests.
func CheckGate(gate string, alpha float64) error {
	switch gate {
	case "", GateSplit, GateBacktest:
	default:
		return fmt.Errorf("promotion gate %q: want %s or %s", gate, GateSplit, GateBacktest)
	}
	if !(alpha >= 0 && alpha < 1) {
		return fmt.Errorf("alpha %g: want 0 < alpha < 1 (0.05 promotes on p < 0.05)", alpha)
	}
	if alpha != 0 && gate != GateBacktest {
		return fmt.Errorf("alpha is the backtest gate's significance level: it goes with gate %s", GateBacktest)
	}
	return nil
}

// CheckOptions checks what the workflow cannot fix by defaults: the
// interval levels and the promotion gate.
func (in TrainingInput) CheckOptions() error {
	if err := CheckIntervalLevels(in.IntervalLevels); err != nil {
		return err
	}
	if err := CheckGate(in.Gate, in.Alpha); err != nil {
		return err
	}
	if in.BacktestFolds < 0 || (in.BacktestFolds != 0 && in.Gate != GateBacktest) {
		return fmt.Errorf("backtest folds %d: want 1 or more, and only with gate %s", in.BacktestFolds, GateBacktest)
	}
	return nil
}

// MaxIntervalLevels bounds the interval levels of one model: each is a
// band stored with the version and answered by every /predict.
const MaxIntervalLevels = 5

// CheckIntervalLevels checks prediction-interval levels: each strictly
// between 0 and 1, each once, at most MaxIntervalLevels.
func CheckIntervalLevels(levels []float64) error {
	if len(levels) > MaxIntervalLevels {
		return fmt.Errorf("%d interval levels: at most %d", len(levels), MaxIntervalLevels)
	}
	for i, l := range levels {
		if !(l > 0 && l < 1) {
			return fmt.Errorf("interval level %g: want 0 < level < 1 (0.8 is an 80%% interval)", l)
		}
		for _, prev := range levels[:i] {
			if prev == l {
				return fmt.Errorf("interval level %g given twice", l)
			}
		}
	}
	return nil
}

// Anomaly is a data-validation finding (validate's own type, its fields
// inline in JSON) and the split it was found in.
type Anomaly struct {
	Split string `json:"split"`
	validate.Anomaly
}

// ValidateInput starts a ValidateData workflow: ingestion and validation
// alone.
type ValidateInput struct {
	Ticker   string          `json:"ticker"`
	CSVKey   string          `json:"csv_key"`
	Format   frame.CSVFormat `json:"format,omitzero"`
	Download *DownloadSpec   `json:"download,omitempty"`
	Train    float64         `json:"train_fraction"`
	Val      float64         `json:"val_fraction"`
	Test     float64         `json:"test_fraction"`
	Config   validate.Config `json:"config"`
	// SearchAttributes sets Ticker and Stage on the workflow (the starter
	// turns it on when the server has them registered).
	SearchAttributes bool `json:"search_attributes"`
}

// ValidateResult lists what validation found.
type ValidateResult struct {
	Ticker    string         `json:"ticker"`
	Raw       blob.Ref       `json:"raw"`
	Read      string         `json:"read,omitempty"` // how the CSV was read
	Schema    blob.Ref       `json:"schema"`
	Stats     [3]blob.Ref    `json:"stats"`
	Anomalies []Anomaly      `json:"anomalies"` // the first few, critical first
	Counts    map[string]int `json:"counts"`    // of all, by severity
	// AnomalyList is every anomaly (a JSON array in the store).
	AnomalyList blob.Ref `json:"anomaly_list,omitempty"`
}

// DownloadSpec is a Yahoo Finance daily-history range.
type DownloadSpec struct {
	Start string `json:"start"` // YYYY-MM-DD
	End   string `json:"end"`   // YYYY-MM-DD
}

// WithDefaults fills every zero field with the reference project's choice.
func (in TrainingInput) WithDefaults() TrainingInput {
	if in.Train == 0 && in.Val == 0 && in.Test == 0 {
		in.Train, in.Val, in.Test = 0.7, 0.1, 0.2
	}
	if in.Lookback == 0 {
		in.Lookback = 50
	}
	if in.Horizon == 0 {
		in.Horizon = 1
	}
	dc := prep.DefaultCleanSpec()
	if in.Clean.Missing == "" {
		in.Clean.Missing = dc.Missing
	}
	if in.Clean.Outliers.Method == "" {
		in.Clean.Outliers = dc.Outliers
	}
	dt := prep.DefaultTransformSpec()
	if in.Transform.Target == "" {
		in.Transform.Target = dt.Target
	}
	if in.Transform.Scaler == "" {
		in.Transform.Scaler = dt.Scaler
	}
	if len(in.Transform.Features) == 0 {
		in.Transform.Features = dt.Features
	}
	d := DefaultModelParams()
	m := &in.Model
	if m.Layers == 0 {
		m.Layers = d.Layers
	}
	if m.Units == 0 {
		m.Units = d.Units
	}
	if m.Epochs == 0 {
		m.Epochs = d.Epochs
	}
	if m.BatchSize == 0 {
		m.BatchSize = d.BatchSize
	}
	if m.LearningRate == 0 {
		m.LearningRate = d.LearningRate
	}
	if m.Seed == 0 {
		m.Seed = d.Seed
	}
	return in
}

// EpochLoss is one point of a learning curve (scaled units).
type EpochLoss struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss"`
}

// TrainingResult is what a finished TrainingPipeline returns.
type TrainingResult struct {
	WorkflowID   string              `json:"workflow_id"`
	RunID        string              `json:"run_id"`
	Ticker       string              `json:"ticker"`
	ModelVersion int                 `json:"model_version"`
	ModelURI     string              `json:"model_uri"`
	ReportURI    string              `json:"report_uri,omitempty"`
	Raw          blob.Ref            `json:"raw"`
	Metrics      metrics.TestSummary `json:"metrics"`
	Efficacy     metrics.Efficacy    `json:"efficacy"`
	Curve        []EpochLoss         `json:"curve"`
	Training     TrainingRun         `json:"training"`
	Promotion    Promotion           `json:"promotion"`
	Tuning       []Trial             `json:"tuning,omitempty"`
	BestTrial    int                 `json:"best_trial,omitempty"`
	FilledValues int                 `json:"filled_values"`
	DroppedRows  int                 `json:"dropped_rows"`
	Outliers     int                 `json:"outliers"`
	Anomalies    map[string]int      `json:"anomalies"`       // by severity
	Plots        string              `json:"plots,omitempty"` // folder of the run's plots
	Windows      [3]int              `json:"windows"`         // train, val, test
}

// UploadKey is where an uploaded or downloaded CSV lives in the store:
// under its content hash, so the same file is stored once.
func UploadKey(sum string) string { return "uploads/" + sum + ".csv" }

// Names of TrainingPipeline's query and signal.
const (
	ProgressQuery  = "progress"
	ProgressSignal = "train-progress"
)

// Progress is what the progress query answers: the live step and, while
// training, the last finished epoch. The train activity signals it.
type Progress struct {
	Stage     string  `json:"stage"`
	Epoch     int     `json:"epoch"`
	Epochs    int     `json:"epochs"`
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss"`
}

// Promotion is the registry gate's decision on the new model.
type Promotion struct {
	Alias           string  `json:"alias"` // champion or challenger
	Promoted        bool    `json:"promoted"`
	Forced          bool    `json:"forced"`
	Reason          string  `json:"reason"`
	PreviousVersion int     `json:"previous_version"` // the champion it was compared with
	Days            int     `json:"days"`             // test days compared
	RMSE            float64 `json:"rmse"`
	ChampionRMSE    float64 `json:"champion_rmse"`
	NaiveRMSE       float64 `json:"naive_rmse"`
	// Gate is what the comparison with naive was judged on (GateSplit or
	// GateBacktest). For GateBacktest, Folds are the backtest's folds and
	// DMStat and DMPValue the pooled Diebold–Mariano test of the model
	// against naive across them (< 0: model better), at level Alpha.
	Gate     string        `json:"gate,omitempty"`
	Alpha    float64       `json:"alpha,omitempty"`
	Folds    int           `json:"folds,omitempty"`
	DMStat   metrics.Maybe `json:"dm_stat,omitempty"`
	DMPValue metrics.Maybe `json:"dm_p_value,omitempty"`
}

// TrainingRun says how the train step went, across retries.
type TrainingRun struct {
	Attempt      int32 `json:"attempt"`      // of the train activity that finished
	ResumedFrom  int   `json:"resumed_from"` // epochs restored from a checkpoint
	EpochsRun    int   `json:"epochs_run"`   // epochs trained by the finishing attempt
	BestEpoch    int   `json:"best_epoch"`
	StoppedEarly bool  `json:"stopped_early"`
}

var (
	tickerPattern = regexp.MustCompile(`^[A-Z0-9.^-]{1,15}$`)
	// alnum: a ticker of punctuation alone ("." in particular, which makes
	// the key segment "." that the store rejects) names nothing.
	alnum = regexp.MustCompile(`[A-Z0-9]`)
)

// NormalizeTicker upper-cases a symbol and checks it: letters, digits, '.',
// '-', '^', at most 15 characters, at least one letter or digit. Nothing
// else can reach a store key.
func NormalizeTicker(s string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if !tickerPattern.MatchString(t) || !alnum.MatchString(t) || strings.Contains(t, "..") {
		return "", fmt.Errorf("invalid ticker %q: want 1-15 letters, digits, '.', '-' or '^'", s)
	}
	return t, nil
}

// TuneSpec configures hyperparameter search (Trials 0 = no search).
type TuneSpec struct {
	Trials          int    `json:"trials"`
	Concurrency     int    `json:"concurrency"`       // trials in flight at once
	Sampler         string `json:"sampler"`           // "tpe" or "random"
	Epochs          int    `json:"epochs"`            // per trial
	Seed            int64  `json:"seed"`              // of the sampler
	PrunerWarmup    int    `json:"pruner_warmup"`     // epochs before a trial may be pruned
	PrunerMinTrials int    `json:"pruner_min_trials"` // finished trials needed to prune
}

// WithDefaults fills the zero fields of a search that has trials.
func (t TuneSpec) WithDefaults() TuneSpec {
	if t.Concurrency <= 0 {
		t.Concurrency = 2
	}
	if t.Sampler == "" {
		t.Sampler = "tpe"
	}
	if t.Epochs <= 0 {
		t.Epochs = 3
	}
	if t.Seed == 0 {
		t.Seed = 1
	}
	if t.PrunerWarmup <= 0 {
		t.PrunerWarmup = 1
	}
	if t.PrunerMinTrials <= 0 {
		t.PrunerMinTrials = 2
	}
	return t
}

// Trial is the record of one hyperparameter trial.
type Trial struct {
	ID       int         `json:"id"`
	Params   ModelParams `json:"params"`
	ValCurve []float64   `json:"val_curve"`
	Best     float64     `json:"best"`
	Pruned   bool        `json:"pruned"`
	Epochs   int         `json:"epochs"`
	Error    string      `json:"error,omitempty"`
}
