package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/validate"
)

// Workflow type names of retraining.
const (
	// RetrainingWorkflow is one retrain of one ticker over one batch of new
	// files (a child of the ticker's TickerRetrainer).
	RetrainingWorkflow = "RetrainingPipeline"
	// TickerWorkflow is the long-lived per-ticker workflow (id
	// retrain-<TICKER>) that queues new data and runs one retrain at a time.
	TickerWorkflow = "TickerRetrainer"
	// InboxWorkflow lists inbox/<TICKER>/ in the store and hands each new
	// file to its ticker, exactly once per content.
	InboxWorkflow = "InboxScan"
	// RefreshWorkflow downloads the days since a ticker's last ingested day
	// and hands them to its ticker when there are new rows.
	RefreshWorkflow = "RefreshTicker"
)

// Signal and query names of TickerRetrainer.
const (
	NewDataSignal = "new-data"
	StatusQuery   = "status"
)

// Schedule ids.
const (
	InboxScheduleID = "finsight-inbox"
	// refreshSchedulePrefix + ticker is a ticker's periodic refresh.
	refreshSchedulePrefix = "finsight-refresh-"
)

// Retraining modes.
const (
	ModeFinetune = "finetune" // warm start from the base model, its transform kept
	ModeFull     = "full"     // from scratch with the base model's hyperparameters
	ModeAuto     = "auto"     // full when drift passes the threshold, else finetune
)

// InboxPrefix is where people drop new CSVs: inbox/<TICKER>/<name>.csv.
const InboxPrefix = "inbox/"

// TickerWorkflowID is the id of a ticker's long-lived retrain workflow.
func TickerWorkflowID(ticker string) string { return "retrain-" + ticker }

// RefreshScheduleID is the id of a ticker's periodic refresh schedule.
func RefreshScheduleID(ticker string) string { return refreshSchedulePrefix + ticker }

// RefreshScheduleTicker is the ticker of a refresh schedule id ("" if the id
// is not one).
func RefreshScheduleTicker(id string) string {
	if !strings.HasPrefix(id, refreshSchedulePrefix) {
		return ""
	}
	return strings.TrimPrefix(id, refreshSchedulePrefix)
}

// ParseMode checks a retraining mode ("" = finetune).
func ParseMode(s string) (string, error) {
	switch m := strings.ToLower(strings.TrimSpace(s)); m {
	case "":
		return ModeFinetune, nil
	case ModeFinetune, ModeFull, ModeAuto:
		return m, nil
	default:
		return "", fmt.Errorf("retrain mode %q: want finetune, full or auto", s)
	}
}

// NewData is one new file for a ticker: an upload in the store and where it
// came from. Its Identity (the SHA256 of the CSV's bytes, with its format
// when one is given) identifies it: the same content is retrained once.
type NewData struct {
	CSVKey   string          `json:"csv_key"` // uploads/<sha256>.csv
	SHA256   string          `json:"sha256"`
	Format   frame.CSVFormat `json:"format,omitzero"`     // the file's columns and date format, when not detected
	Source   string          `json:"source"`              // "starter", "inbox", "hook", "refresh:yahoo"
	Name     string          `json:"name,omitempty"`      // the file's name as dropped or given
	InboxKey string          `json:"inbox_key,omitempty"` // where the file sits in the inbox (moved to rejected/ if it fails)
	Arrived  time.Time       `json:"arrived"`
	// Options a starter may attach; the batch a file joins runs with the
	// options of its newest file that set them.
	Options RetrainOptions `json:"options"`
}

// Identity is what makes d the same content as another file: the CSV's
// SHA256, and its format when one was given (the same bytes read with
// other columns or another date format are other data).
func (d NewData) Identity() string {
	if d.Format.IsZero() {
		return d.SHA256
	}
	return FormatIdentity(d.SHA256, d.Format)
}

// FormatIdentity is the identity of a CSV's content read with format f.
func FormatIdentity(sha string, f frame.CSVFormat) string {
	sum := sha256.Sum256([]byte(sha + "\n" + f.String()))
	return hex.EncodeToString(sum[:])
}

// RetrainOptions are the knobs of one retrain; zero values take defaults.
type RetrainOptions struct {
	Mode         string  `json:"mode,omitempty"`          // finetune (default), full, auto
	BaseVersion  int     `json:"base_version,omitempty"`  // 0: the champion, else the latest version
	Epochs       int     `json:"epochs,omitempty"`        // 0: finetune 5, full the base model's
	LearningRate float64 `json:"learning_rate,omitempty"` // 0: finetune base/10, full the base's
	Patience     int     `json:"patience,omitempty"`      // 0: finetune 3, full the base's
	// TestFraction of the new rows (the newest) are the test days; nothing
	// trains on them. ValFraction of the new rows before them validate.
	TestFraction float64 `json:"test_fraction,omitempty"` // 0: 0.2
	ValFraction  float64 `json:"val_fraction,omitempty"`  // 0: 0.2
	// DriftThreshold: in auto mode, the largest Jensen–Shannon divergence of
	// a feature's returns (new vs the base's training split) above which the
	// model is retrained in full.
	DriftThreshold  float64 `json:"drift_threshold,omitempty"` // 0: 0.1
	PromotionMargin float64 `json:"promotion_margin,omitempty"`
	ForcePromote    bool    `json:"force_promote,omitempty"`
}

// WithDefaults fills the zero knobs.
func (o RetrainOptions) WithDefaults() RetrainOptions {
	if m, err := ParseMode(o.Mode); err == nil {
		o.Mode = m // "" → finetune, " FULL " → full; a bad mode stays for Validate to report
	}
	if o.TestFraction == 0 {
		o.TestFraction = 0.2
	}
	if o.ValFraction == 0 {
		o.ValFraction = 0.2
	}
	if o.DriftThreshold == 0 {
		o.DriftThreshold = 0.1
	}
	return o
}

// Validate checks the knobs.
func (o RetrainOptions) Validate() error {
	if _, err := ParseMode(o.Mode); err != nil {
		return err
	}
	switch {
	case o.Epochs < 0 || o.Patience < 0 || o.LearningRate < 0 || o.BaseVersion < 0:
		return fmt.Errorf("epochs, patience, learning rate and base version must not be negative")
	case o.TestFraction < 0 || o.ValFraction < 0 || o.TestFraction+o.ValFraction >= 1:
		return fmt.Errorf("test (%.2f) and validation (%.2f) fractions of the new rows must be positive and leave rows to train on", o.TestFraction, o.ValFraction)
	case o.DriftThreshold < 0:
		return fmt.Errorf("drift threshold must not be negative")
	}
	return nil
}

// RetrainingInput starts one RetrainingPipeline.
type RetrainingInput struct {
	Ticker  string          `json:"ticker"`
	Files   []NewData       `json:"files"` // merged in date order
	Options RetrainOptions  `json:"options"`
	Config  validate.Config `json:"validate"`
	Device  string          `json:"device,omitempty"` // "cuda" sends training to the GPU queue
	// SearchAttributes sets Ticker, Stage and ModelVersion (the server must
	// have them registered).
	SearchAttributes bool `json:"search_attributes"`
}

// BaseModel is the registered version a retrain starts from.
type BaseModel struct {
	Version int    `json:"version"`
	Why     string `json:"why"` // "champion", or "latest (no version has beaten naive yet)"
	RunID   string `json:"run_id"`
	// Raw is the raw data the base trained on; its last date is where new
	// data starts.
	Raw       blob.Ref    `json:"raw"`
	Train     blob.Ref    `json:"train"` // the base's training split (raw), the reference of drift
	Weights   blob.Ref    `json:"weights"`
	Transform blob.Ref    `json:"transform"`
	Params    ModelParams `json:"params"`
	Lookback  int         `json:"lookback"`
	Horizon   int         `json:"horizon"`
	LastDate  string      `json:"last_date"`
	// What the base run used, so a retrain prepares data the same way.
	Clean    prep.CleanSpec     `json:"clean"`
	Spec     prep.TransformSpec `json:"transform_spec"`
	Validate validate.Config    `json:"validate"`
}

// FileOutcome says what became of one new file.
type FileOutcome struct {
	Name     string   `json:"name"`
	SHA256   string   `json:"sha256"`
	Raw      blob.Ref `json:"raw,omitempty"`
	Rows     int      `json:"rows"`
	NewRows  int      `json:"new_rows"` // rows for days the base did not have
	First    string   `json:"first_date,omitempty"`
	Last     string   `json:"last_date,omitempty"`
	Read     string   `json:"read,omitempty"` // how the file was read
	Rejected bool     `json:"rejected"`
	Reason   string   `json:"reason,omitempty"`
	Moved    string   `json:"moved_to,omitempty"` // rejected/ key, for inbox files
}

// Drift is the new data against the base model's training split.
type Drift struct {
	MaxJS     float64            `json:"max_js"`
	Feature   string             `json:"feature"` // the feature with MaxJS
	JS        map[string]float64 `json:"js"`      // per feature, of daily log returns
	KSP       map[string]float64 `json:"ks_p"`    // Kolmogorov–Smirnov p-value per feature
	Threshold float64            `json:"threshold"`
	Exceeded  bool               `json:"exceeded"`
}

// ModelScore is one model's error on the retrain's test days.
type ModelScore struct {
	Name    string  `json:"name"`    // "v2 (challenger)", "v1 (base)", "naive"
	Version int     `json:"version"` // 0 for naive
	RMSE    float64 `json:"rmse"`
	MAE     float64 `json:"mae"`
}

// Comparison scores the new model, the base and naive on the same days.
type Comparison struct {
	Days   int          `json:"days"`
	First  string       `json:"first_date"`
	Last   string       `json:"last_date"`
	Scores []ModelScore `json:"scores"`
}

// RetrainingResult is what a finished RetrainingPipeline returns.
type RetrainingResult struct {
	WorkflowID   string              `json:"workflow_id"`
	Ticker       string              `json:"ticker"`
	Base         BaseModel           `json:"base"`
	Mode         string              `json:"mode"`        // the mode that ran
	ModeReason   string              `json:"mode_reason"` // why
	Files        []FileOutcome       `json:"files"`
	Drift        Drift               `json:"drift"`
	Raw          blob.Ref            `json:"raw"`     // the merged raw version
	Parents      []blob.Ref          `json:"parents"` // the base's raw and each new file's raw
	ModelVersion int                 `json:"model_version"`
	ModelURI     string              `json:"model_uri"`
	ReportURI    string              `json:"report_uri,omitempty"`
	Metrics      metrics.TestSummary `json:"metrics"`
	Comparison   Comparison          `json:"comparison"`
	Training     TrainingRun         `json:"training"`
	Curve        []EpochLoss         `json:"curve"`
	Promotion    Promotion           `json:"promotion"`
	Windows      [3]int              `json:"windows"`
}

// TickerInput starts (or continues) a ticker's TickerRetrainer.
type TickerInput struct {
	Ticker string `json:"ticker"`
	// Carried across continue-as-new.
	Queue []NewData         `json:"queue,omitempty"`
	Done  []RetrainOutcome  `json:"done,omitempty"` // the newest last, at most 50
	Seq   int               `json:"seq"`            // retrains started so far (names the children)
	Last  *RetrainingResult `json:"last,omitempty"`
	// MaxRunsPerHistory: continue-as-new after this many retrains (0: 20);
	// tests lower it.
	MaxRunsPerHistory int `json:"max_runs_per_history,omitempty"`
	// IdleTimeout: the workflow ends after this long with nothing queued
	// (0: 24h); the next signal-with-start begins it again.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`
	// Device and SearchAttributes pass through to each retrain.
	Device           string `json:"device,omitempty"`
	SearchAttributes bool   `json:"search_attributes"`
}

// RetrainOutcome is one finished retrain, as the status query lists it.
type RetrainOutcome struct {
	WorkflowID string    `json:"workflow_id"` // the child RetrainingPipeline
	Files      []string  `json:"files"`       // Identity (the SHA256, with the format when given) of each file
	Names      []string  `json:"names"`
	Finished   time.Time `json:"finished"`
	Version    int       `json:"version,omitempty"`
	Mode       string    `json:"mode,omitempty"`
	Promoted   bool      `json:"promoted"`
	Error      string    `json:"error,omitempty"`
}

// TickerStatus answers the status query.
type TickerStatus struct {
	Ticker  string            `json:"ticker"`
	Queue   []NewData         `json:"queue"`
	Running *RunningRetrain   `json:"running,omitempty"`
	Done    []RetrainOutcome  `json:"done"`
	Last    *RetrainingResult `json:"last,omitempty"`
	Seq     int               `json:"seq"`
}

// RunningRetrain is the retrain in flight.
type RunningRetrain struct {
	WorkflowID string    `json:"workflow_id"`
	Files      []NewData `json:"files"`
	Started    time.Time `json:"started"`
}

// InboxInput starts an InboxScan. With Keys, only those inbox objects are
// looked at (the storage hook names the one that arrived); without, all of
// inbox/.
type InboxInput struct {
	Keys []string `json:"keys,omitempty"`
	// Device and SearchAttributes pass to the ticker workflows it starts.
	Device           string `json:"device,omitempty"`
	SearchAttributes bool   `json:"search_attributes"`
}

// InboxResult lists what a scan did with each file it saw.
type InboxResult struct {
	HandedOff  []InboxFile `json:"handed_off"`
	Duplicates []InboxFile `json:"duplicates"`
	Skipped    []InboxFile `json:"skipped"` // not CSV, bad ticker folder, or being handled by another scan
}

// InboxFile is one inbox object.
type InboxFile struct {
	Key    string `json:"key"`
	Ticker string `json:"ticker"`
	SHA256 string `json:"sha256,omitempty"`
	Note   string `json:"note,omitempty"`
}

// RefreshInput starts a RefreshTicker run.
type RefreshInput struct {
	Ticker string `json:"ticker"`
	Source string `json:"source"` // "yahoo"
	// Options for the retrain it triggers.
	Options          RetrainOptions `json:"options"`
	Device           string         `json:"device,omitempty"`
	SearchAttributes bool           `json:"search_attributes"`
}

// RefreshResult says whether new days were found and handed on.
type RefreshResult struct {
	Ticker   string `json:"ticker"`
	From     string `json:"from"` // first day asked for
	To       string `json:"to"`
	Rows     int    `json:"rows"` // new rows found
	CSVKey   string `json:"csv_key,omitempty"`
	HandedOn bool   `json:"handed_on"`
	Note     string `json:"note"`
}
