package workflows

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// webUIRecorder records what a workflow upserts for the Web UI: its memo
// (merged, as the server keeps it) and the Ticker and Stage search
// attributes, in order.
type webUIRecorder struct {
	memo    map[string]any
	upserts int // memo upserts
	tickers []string
	stages  []string
}

func recordWebUI(env *testsuite.TestWorkflowEnvironment) *webUIRecorder {
	r := &webUIRecorder{memo: map[string]any{}}
	env.OnUpsertMemo(mock.Anything).Run(func(args mock.Arguments) {
		r.upserts++
		maps.Copy(r.memo, args.Get(0).(map[string]any))
	}).Return()
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if v, ok := sa.GetKeyword(attrTicker); ok {
			r.tickers = append(r.tickers, v)
		}
		if v, ok := sa.GetKeyword(attrStage); ok {
			r.stages = append(r.stages, v)
		}
	}).Return()
	return r
}

// has checks that memo field key holds every one of parts.
func (r *webUIRecorder) has(t *testing.T, key string, parts ...string) {
	t.Helper()
	v, _ := r.memo[key].(string)
	for _, p := range parts {
		if !strings.Contains(v, p) {
			t.Errorf("memo %s = %q, want it to hold %q (memo %v)", key, v, p, r.memo)
		}
	}
}

func TestTrainingSetsItsMemo(t *testing.T) {
	env, _, _ := mockedPipeline(t, "", nil)
	ui := recordWebUI(env)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "nflx", CSVKey: "uploads/" + strings.Repeat("ab", 32) + ".csv",
		Source: "NFLX.csv", Model: pipeline.ModelParams{Epochs: 7, Dropout: 0.3}, SearchAttributes: true})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	ui.has(t, memoTicker, "NFLX")
	ui.has(t, memoMode, "train")
	ui.has(t, memoData, "NFLX.csv (upload abababababab)")
	ui.has(t, memoParams, "2×LSTM(64) dropout 0.3", "7 epochs", "lookback 50", "target logret")
	ui.has(t, memoDataVersion, "raw (10 rows)") // the mocked ingest's raw data
	if ui.upserts != 2 {
		t.Errorf("%d memo upserts, want 2 (at the start, after ingest)", ui.upserts)
	}
	// The tracker keeps setting the search attributes, Stage following the run.
	if !slices.Equal(ui.tickers, []string{"NFLX"}) || len(ui.stages) == 0 || ui.stages[0] != "ingest" || ui.stages[len(ui.stages)-1] != "completed" {
		t.Errorf("search attributes: Ticker %v, Stage %v", ui.tickers, ui.stages)
	}
}

func TestTuneMemo(t *testing.T) {
	m := tuneMemo("NFLX", pipeline.TuneSpec{Trials: 8})
	if m[memoTicker] != "NFLX" || m[memoMode] != "tune" || m[memoParams] != "8 trials (tpe), 2 at once, 3 epochs each" {
		t.Fatalf("tune memo %v", m)
	}
}

// ValidateData sets its memo and, like training, the Ticker and Stage
// search attributes, Stage following it to its end.
func TestValidateDataSetsMemoAndSearchAttributes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		failAt string
		index  bool
		stages []string
	}{
		{"completed", "", true, []string{"ingest", "validate", "completed"}},
		{"failed", "Ingest", true, []string{"ingest", "failed"}},
		{"without search attributes", "", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var failure error
			if tc.failAt != "" {
				failure = temporal.NewNonRetryableApplicationError("unreadable", steps.ErrInvalidData, nil)
			}
			env, _, _ := mockedPipeline(t, tc.failAt, failure)
			ui := recordWebUI(env)
			env.ExecuteWorkflow(ValidateData, pipeline.ValidateInput{Ticker: "nflx", CSVKey: "uploads/x.csv", SearchAttributes: tc.index})
			if err := env.GetWorkflowError(); (err != nil) != (tc.failAt != "") {
				t.Fatalf("workflow error %v", err)
			}
			ui.has(t, memoTicker, "NFLX")
			ui.has(t, memoMode, "validate")
			ui.has(t, memoData, "upload x")
			if tc.failAt == "" {
				ui.has(t, memoDataVersion, "raw (10 rows)")
			}
			wantTickers := []string{"NFLX"}
			if !tc.index {
				wantTickers = nil
			}
			if !slices.Equal(ui.tickers, wantTickers) || !slices.Equal(ui.stages, tc.stages) {
				t.Errorf("search attributes: Ticker %v, Stage %v; want %v, %v", ui.tickers, ui.stages, wantTickers, tc.stages)
			}
		})
	}
}

// A retrain's memo says what it was asked, then (after merge) the mode it
// chose, its base and the merged data's version.
func TestRetrainingSetsItsMemo(t *testing.T) {
	m := mockedRetrain(t, nil)
	ui := recordWebUI(m.env)
	m.env.ExecuteWorkflow(RetrainingPipeline, pipeline.RetrainingInput{Ticker: "nflx", SearchAttributes: true,
		Files: []pipeline.NewData{retrainFile("a.csv", true), retrainFile("b.csv", false)}, Options: pipeline.RetrainOptions{Mode: "auto", Epochs: 3}})
	if err := m.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	ui.has(t, memoTicker, "NFLX")
	ui.has(t, memoMode, "retrain finetune") // auto chose finetune (drift below the threshold)
	ui.has(t, memoData, "2 new file(s): a.csv (sha-a), b.csv (sha-b)")
	ui.has(t, memoParams, "mode auto", "3 epochs", "drift threshold 0.1")
	ui.has(t, memoBase, "v4 (champion)")
	ui.has(t, memoDataVersion, "sha-merged (10 rows)")
	if !slices.Equal(ui.tickers, []string{"NFLX"}) || len(ui.stages) == 0 || ui.stages[0] != "base" || ui.stages[len(ui.stages)-1] != "completed" {
		t.Errorf("search attributes: Ticker %v, Stage %v", ui.tickers, ui.stages)
	}
}

// The ticker workflow sets Ticker and a Stage that follows its queue:
// waiting, retraining, waiting, ..., completed when it ends idle.
func TestTickerRetrainerSetsMemoAndSearchAttributes(t *testing.T) {
	env, _ := tickerEnv(t)
	ui := recordWebUI(env)
	signalAt(env, time.Minute, newData("a"))
	if err := runTicker(env, pipeline.TickerInput{SearchAttributes: true, Device: "cuda"}); err != nil {
		t.Fatal(err)
	}
	ui.has(t, memoTicker, "NFLX")
	ui.has(t, memoMode, "retrain queue")
	ui.has(t, memoParams, "device cuda")
	if want := []string{"waiting", "retraining", "waiting", "completed"}; !slices.Equal(ui.tickers, []string{"NFLX"}) || !slices.Equal(ui.stages, want) {
		t.Errorf("search attributes: Ticker %v, Stage %v; want Stage %v", ui.tickers, ui.stages, want)
	}
}

func TestRefreshSetsMemoAndSearchAttributes(t *testing.T) {
	env, _, _ := refreshEnv(t, "2024-06-28", downloaded("uploads/"+strings.Repeat("ab", 32)+".csv", 3))
	ui := recordWebUI(env)
	runRefresh(t, env, pipeline.RefreshInput{Ticker: "nflx", Source: "yahoo", Options: pipeline.RetrainOptions{Mode: pipeline.ModeFull}, SearchAttributes: true})
	ui.has(t, memoTicker, "NFLX")
	ui.has(t, memoMode, "refresh")
	ui.has(t, memoData, "yahoo")
	ui.has(t, memoParams, "mode full")
	if want := []string{"base", "download", "handoff", "completed"}; !slices.Equal(ui.tickers, []string{"NFLX"}) || !slices.Equal(ui.stages, want) {
		t.Errorf("search attributes: Ticker %v, Stage %v; want Stage %v", ui.tickers, ui.stages, want)
	}
}

func TestInboxScanSetsItsMemo(t *testing.T) {
	env := inboxEnv()
	ui := recordWebUI(env)
	env.OnActivity(steps.ScanInbox, mock.Anything, mock.Anything).Return(pipeline.InboxResult{}, nil)
	env.ExecuteWorkflow(InboxScan, pipeline.InboxInput{Keys: []string{"inbox/NFLX/a.csv"}, SearchAttributes: true})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	ui.has(t, memoMode, "inbox scan")
	ui.has(t, memoData, "1 object(s): inbox/NFLX/a.csv")
	if _, ok := ui.memo[memoTicker]; ok || len(ui.tickers)+len(ui.stages) != 0 {
		t.Errorf("an inbox scan (no ticker) set ticker %v, search attributes %v %v", ui.memo[memoTicker], ui.tickers, ui.stages)
	}
}

// Executions begun before the memo replay without it: no memo, no new
// search attributes.
func TestWebUIIsOffForExecutionsBegunBefore(t *testing.T) {
	env, _, _ := mockedPipeline(t, "", nil)
	ui := recordWebUI(env)
	env.OnGetVersion(webUIChange, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.OnGetVersion(mock.Anything, workflow.DefaultVersion, 1).Return(workflow.Version(1)) // any other change: its newest
	env.ExecuteWorkflow(ValidateData, pipeline.ValidateInput{Ticker: "nflx", CSVKey: "uploads/x.csv", SearchAttributes: true})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if ui.upserts != 0 || len(ui.tickers)+len(ui.stages) != 0 {
		t.Errorf("an execution begun before set memo %v and search attributes %v %v", ui.memo, ui.tickers, ui.stages)
	}
}
