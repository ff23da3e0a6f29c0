package pipeline

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// FleetWorkflow trains, retrains or prepares many tickers: one child
// workflow per ticker (a group of tickers per activity for "prepare"), at
// most Parallel at once.
const FleetWorkflow = "FleetPipeline"

// Kinds of fleet.
const (
	FleetTraining   = "training"   // a TrainingPipeline per ticker
	FleetRetraining = "retraining" // a RetrainingPipeline per ticker, its file the new data
	FleetPrepare    = "prepare"    // ingest → split → validate → clean → scale → window only, tickers batched per activity
)

// Defaults of a FleetInput.
const (
	DefaultFleetParallel  = 4
	DefaultFleetGroupSize = 25  // tickers per activity of a prepare fleet
	DefaultFleetPerRun    = 100 // children (or groups) per run before it continues as new
)

// FleetItem is one ticker of a fleet and its price file in the store.
type FleetItem struct {
	Ticker string          `json:"ticker"`
	CSVKey string          `json:"csv_key"`
	Format frame.CSVFormat `json:"format,omitzero"`
	Name   string          `json:"name,omitempty"` // the file's name, for people
}

// FleetInput starts a FleetPipeline. The tickers are Items, or every CSV
// under Prefix in the store (a ticker per file, named by the file:
// NFLX.csv, AAL_data.csv).
type FleetInput struct {
	Items  []FleetItem `json:"items,omitempty"`
	Prefix string      `json:"prefix,omitempty"`
	Kind   string      `json:"kind"`
	// Training is every ticker's training input (its Ticker and CSVKey are
	// the item's); retraining fleets take its Validate and Device.
	Training TrainingInput  `json:"training"`
	Retrain  RetrainOptions `json:"retrain,omitzero"`
	Parallel int            `json:"parallel"`
	// GroupSize is how many tickers one activity of a prepare fleet
	// handles; PerRun how many children (groups) a run starts before it
	// continues as new (tests lower it).
	GroupSize int `json:"group_size,omitempty"`
	PerRun    int `json:"per_run,omitempty"`
	// State is carried across continue-as-new; nil on the first run.
	State *FleetState `json:"state,omitempty"`
}

// FleetState is where a fleet stands: what is left, what is done.
type FleetState struct {
	Queue   []FleetItem    `json:"queue"`
	Done    []FleetOutcome `json:"done"`
	Started time.Time      `json:"started"`
	Runs    int            `json:"runs"` // runs of the workflow so far (continue-as-new)
}

// FleetOutcome is how one ticker of a fleet ended.
type FleetOutcome struct {
	Ticker     string `json:"ticker"`
	Status     string `json:"status"` // completed or failed
	Reason     string `json:"reason,omitempty"`
	WorkflowID string `json:"workflow_id,omitempty"`
	// Training and retraining: the version registered and its test scores
	// against naive on the same days.
	ModelVersion int     `json:"model_version,omitempty"`
	RMSE         float64 `json:"rmse,omitempty"`
	NaiveRMSE    float64 `json:"naive_rmse,omitempty"`
	MASE         float64 `json:"mase,omitempty"`
	DMP          float64 `json:"dm_p,omitempty"`
	TestDays     int     `json:"test_days,omitempty"`
	Alias        string  `json:"alias,omitempty"`
	Promoted     bool    `json:"promoted,omitempty"`
	// Prepare: the rows read and the windows written.
	Rows    int     `json:"rows,omitempty"`
	Windows [3]int  `json:"windows,omitzero"`
	Seconds float64 `json:"seconds"`
}

// Statuses of a fleet's ticker.
const (
	FleetCompleted = "completed"
	FleetFailed    = "failed"
)

// BeatNaive reports whether the ticker's model scored below naive's RMSE.
func (o FleetOutcome) BeatNaive() bool {
	return o.Status == FleetCompleted && o.TestDays > 0 && o.RMSE < o.NaiveRMSE
}

// FleetProgress answers a fleet's progress query.
type FleetProgress struct {
	Kind    string   `json:"kind"`
	Total   int      `json:"total"`
	Done    int      `json:"done"` // completed or failed
	Failed  int      `json:"failed"`
	Running []string `json:"running"` // tickers (a prepare fleet: of the groups running)
	Queued  int      `json:"queued"`
	Runs    int      `json:"runs"`
}

// FleetResult is what a finished FleetPipeline returns (and its report in
// the store holds).
type FleetResult struct {
	FleetID  string         `json:"fleet_id"`
	Kind     string         `json:"kind"`
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Outcomes []FleetOutcome `json:"outcomes"` // by ticker
	Totals   FleetTotals    `json:"totals"`
	Runs     int            `json:"runs"` // the workflow's runs (continue-as-new)
	// Report and CSV are the fleet's report in the store
	// (fleets/<id>/fleet.json and fleets/<id>/report.csv).
	Report string `json:"report"`
	CSV    string `json:"csv"`
}

// FleetTotals sums a fleet up.
type FleetTotals struct {
	Tickers   int            `json:"tickers"`
	Completed int            `json:"completed"`
	Failed    int            `json:"failed"`
	BeatNaive int            `json:"beat_naive"`
	Promoted  int            `json:"promoted"`
	Reasons   map[string]int `json:"failure_reasons,omitempty"` // the first line of each reason, counted
}

// FleetTotalsOf sums outcomes up.
func FleetTotalsOf(outcomes []FleetOutcome) FleetTotals {
	t := FleetTotals{Tickers: len(outcomes)}
	for _, o := range outcomes {
		switch o.Status {
		case FleetCompleted:
			t.Completed++
		case FleetFailed:
			t.Failed++
			if t.Reasons == nil {
				t.Reasons = map[string]int{}
			}
			t.Reasons[ReasonClass(o.Reason)]++
		}
		if o.BeatNaive() {
			t.BeatNaive++
		}
		if o.Promoted {
			t.Promoted++
		}
	}
	return t
}

// ReasonClass is a failure reason without what is particular to one file,
// so that alike failures count together: its first line, cut before a file
// position (": line 4, column …"), quoted values as "…" and numbers as N,
// at most 100 bytes ("window failed: val split: N rows give no N-row
// window with horizon N").
func ReasonClass(reason string) string {
	r := strings.TrimSpace(strings.SplitN(reason, "\n", 2)[0])
	if i := strings.Index(r, ": line "); i > 0 {
		r = r[:i]
	}
	r = quotedValue.ReplaceAllString(r, `"…"`)
	r = number.ReplaceAllString(r, "N")
	if len(r) > 100 {
		r = r[:100] + "…"
	}
	return r
}

var (
	quotedValue = regexp.MustCompile(`"[^"]*"`)
	number      = regexp.MustCompile(`\b\d+(\.\d+)?\b`)
)

// WithDefaults fills a fleet's unset fields.
func (in FleetInput) WithDefaults() FleetInput {
	if in.Kind == "" {
		in.Kind = FleetTraining
	}
	if in.Parallel <= 0 {
		in.Parallel = DefaultFleetParallel
	}
	if in.GroupSize <= 0 {
		in.GroupSize = DefaultFleetGroupSize
	}
	if in.PerRun <= 0 {
		in.PerRun = DefaultFleetPerRun
	}
	return in
}

// Check refuses a fleet that cannot run: an unknown kind, nothing to run,
// a ticker twice, an item without a file.
func (in FleetInput) Check() error {
	switch in.Kind {
	case FleetTraining, FleetRetraining, FleetPrepare:
	default:
		return fmt.Errorf("fleet kind %q: want %s, %s or %s", in.Kind, FleetTraining, FleetRetraining, FleetPrepare)
	}
	if len(in.Items) == 0 && in.Prefix == "" && in.State == nil {
		return fmt.Errorf("a fleet needs tickers: items, or a store prefix of CSV files")
	}
	seen := map[string]bool{}
	for _, it := range in.Items {
		t, err := NormalizeTicker(it.Ticker)
		if err != nil {
			return fmt.Errorf("fleet item %q: %w", it.Name, err)
		}
		if seen[t] {
			return fmt.Errorf("fleet: ticker %s is listed twice", t)
		}
		seen[t] = true
		if it.CSVKey == "" {
			return fmt.Errorf("fleet: ticker %s has no file", t)
		}
	}
	return nil
}

// TickerFromFileName names the ticker of a price file by its name: the
// name without its extension and a "_data" or "-prices" style suffix
// (NFLX.csv, AAL_data.csv, brk.b_prices.csv → BRK.B).
func TickerFromFileName(name string) (string, error) {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	for _, suffix := range []string{"_data", "-data", "_prices", "-prices", "_daily", "-daily"} {
		if len(base) > len(suffix) && strings.EqualFold(base[len(base)-len(suffix):], suffix) {
			base = base[:len(base)-len(suffix)]
			break
		}
	}
	t, err := NormalizeTicker(base)
	if err != nil {
		return "", fmt.Errorf("file %s: %w (name files <TICKER>.csv)", name, err)
	}
	return t, nil
}

// FleetChildID is the workflow id of a fleet's child for a ticker: the
// same across continue-as-new and retries, so a ticker runs once.
func FleetChildID(fleetID, ticker string) string { return fleetID + "-" + ticker }

// FleetReportKey and FleetCSVKey are where a fleet's report lives.
func FleetReportKey(fleetID string) string { return "fleets/" + fleetID + "/fleet.json" }

// FleetCSVKey is the fleet's per-ticker table as CSV.
func FleetCSVKey(fleetID string) string { return "fleets/" + fleetID + "/report.csv" }
