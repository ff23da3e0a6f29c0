package workflows

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// ---- fixtures -------------------------------------------------------------

func dataRef(k string) blob.Ref {
	return blob.Ref{Key: k, SHA256: "sha-" + k, Rows: 10}
}

// testBase is the registered version the retrains start from.
func testBase() pipeline.BaseModel {
	return pipeline.BaseModel{
		Version: 4, Why: "champion", RunID: "train-nflx-1",
		Raw: dataRef("base-raw"), Train: dataRef("base-train"), Weights: dataRef("base-weights"), Transform: dataRef("base-transform"),
		Params: pipeline.ModelParams{Layers: 2, Units: 32, Dropout: 0.1, Epochs: 40, BatchSize: 64, LearningRate: 0.002,
			Seed: 7, ClipNorm: 1, LRDecay: 0.95, Patience: 8},
		Lookback: 30, Horizon: 2, LastDate: "2024-06-28",
		Clean: prep.DefaultCleanSpec(),
		Spec:  prep.TransformSpec{Target: prep.TargetLogReturn, Scaler: prep.ScalerMinMax, Features: []string{"open", "close"}},
	}
}

// newFile is a new CSV for NFLX; inbox files carry their inbox key.
func retrainFile(name string, inbox bool) pipeline.NewData {
	sha := "sha-" + strings.TrimSuffix(name, ".csv")
	d := pipeline.NewData{CSVKey: "uploads/" + sha + ".csv", SHA256: sha, Source: "hook", Name: name}
	if inbox {
		d.Source, d.InboxKey = "inbox", "inbox/NFLX/"+name
	}
	return d
}

// rawOf is the raw ref Ingest gives a CSV.
func rawOf(csvKey string) blob.Ref { return dataRef("raw-" + csvKey) }

var (
	testSplits   = steps.Splits{Train: dataRef("train"), Val: dataRef("val"), Test: dataRef("test")}
	testCleaned  = steps.Splits{Train: dataRef("clean-train"), Val: dataRef("clean-val"), Test: dataRef("clean-test")}
	testWindows  = steps.Splits{Train: dataRef("win-train"), Val: dataRef("win-val"), Test: dataRef("win-test")}
	newTransform = dataRef("new-transform")
)

// ---- mocked retrain -------------------------------------------------------

// retrainMocks is a test environment with every activity of a retrain
// mocked; it records the order of calls, each call's input and every run
// record saved.
type retrainMocks struct {
	env     *testsuite.TestWorkflowEnvironment
	calls   []string
	inputs  map[string][]any
	records []runs.Record
}

// retrainOverrides replace an activity's default behaviour: the value is a
// function with the activity's signature.
type retrainOverrides map[string]any

func mockedRetrain(t *testing.T, over retrainOverrides) *retrainMocks {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	m := &retrainMocks{env: env, inputs: map[string][]any{}}

	defaults := []struct {
		name string
		impl any
	}{
		{steps.ResolveBase, func(context.Context, steps.ResolveBaseInput) (pipeline.BaseModel, error) {
			return testBase(), nil
		}},
		{steps.Ingest, func(_ context.Context, in steps.IngestInput) (steps.IngestResult, error) {
			return steps.IngestResult{Raw: rawOf(in.CSVKey), FirstDate: "2024-07-01", LastDate: "2024-08-30"}, nil
		}},
		{steps.CheckNewData, acceptAll(pipeline.Drift{MaxJS: 0.03, Feature: "open", Threshold: 0.1})},
		{steps.RejectFiles, func(_ context.Context, in steps.RejectInput) (steps.RejectResult, error) {
			out := steps.RejectResult{Moved: map[string]string{}}
			for _, f := range in.Files {
				out.Moved[f.SHA256] = "inbox/NFLX/rejected/" + f.Name
			}
			return out, nil
		}},
		{steps.Merge, func(_ context.Context, in steps.MergeInput) (steps.MergeResult, error) {
			return steps.MergeResult{Raw: dataRef("merged"), Parents: append([]blob.Ref{in.Base}, in.Files...),
				NewFrom: "2024-07-01", NewRows: 43}, nil
		}},
		{steps.Split, func(context.Context, steps.SplitInput) (steps.Splits, error) { return testSplits, nil }},
		{steps.Clean, func(context.Context, steps.CleanInput) (steps.CleanResult, error) {
			return steps.CleanResult{Splits: testCleaned}, nil
		}},
		{steps.Scale, func(context.Context, steps.ScaleInput) (steps.ScaleResult, error) {
			return steps.ScaleResult{Transform: newTransform}, nil
		}},
		{steps.Window, func(context.Context, steps.WindowInput) (steps.Splits, error) { return testWindows, nil }},
		{steps.Train, func(context.Context, steps.TrainInput) (steps.TrainResult, error) {
			return steps.TrainResult{Weights: dataRef("new-weights"), Curve: []pipeline.EpochLoss{{Epoch: 1}, {Epoch: 2}}, TrainingRun: pipeline.TrainingRun{EpochsRun: 2}}, nil
		}},
		{steps.Evaluate, func(context.Context, steps.EvaluateInput) (steps.EvaluateResult, error) {
			return steps.EvaluateResult{Metrics: metrics.TestSummary{TestRMSE: 1.5, NaiveRMSE: 2, N: 9}, Predictions: dataRef("predictions")}, nil
		}},
		{steps.Compare, func(context.Context, steps.CompareInput) (pipeline.Comparison, error) {
			return pipeline.Comparison{Days: 9, Scores: []pipeline.ModelScore{
				{Name: "new", RMSE: 1.5}, {Name: "v4 (base)", Version: 4, RMSE: 1.8}, {Name: "naive", RMSE: 2}}}, nil
		}},
		{steps.Register, func(context.Context, steps.RegisterInput) (steps.RegisterResult, error) {
			return steps.RegisterResult{Version: 5, URI: "file:///models/NFLX/v5"}, nil
		}},
		{steps.Promote, func(context.Context, steps.PromoteInput) (pipeline.Promotion, error) {
			return pipeline.Promotion{Alias: "champion", Promoted: true, Reason: "beat v4", PreviousVersion: 4}, nil
		}},
		{steps.Report, func(context.Context, steps.ReportInput) (steps.ReportResult, error) {
			return steps.ReportResult{Artifacts: map[string]string{"report": "file:///runs/x/report.html"}}, nil
		}},
	}
	for _, st := range defaults {
		name, impl := st.name, st.impl
		if o, ok := over[name]; ok {
			impl = o
		}
		env.OnActivity(name, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
			m.calls = append(m.calls, name)
			m.inputs[name] = append(m.inputs[name], args.Get(1))
		}).Return(impl)
	}
	env.OnActivity(steps.SaveRun, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		rec := args.Get(1).(runs.Record)
		rec.Steps = append([]runs.Step(nil), rec.Steps...) // the tracker keeps appending to its slice
		m.records = append(m.records, rec)
	}).Return(steps.SaveRunResult{}, nil)
	for name := range over {
		found := false
		for _, st := range defaults {
			found = found || st.name == name
		}
		if !found {
			t.Fatalf("override of unknown activity %q", name)
		}
	}
	return m
}

// acceptAll is a CheckNewData that accepts every ingested file with drift d.
func acceptAll(d pipeline.Drift) func(context.Context, steps.CheckNewDataInput) (steps.CheckNewDataResult, error) {
	return func(_ context.Context, in steps.CheckNewDataInput) (steps.CheckNewDataResult, error) {
		out := steps.CheckNewDataResult{Drift: d}
		for _, f := range in.Files {
			out.Files = append(out.Files, pipeline.FileOutcome{Name: f.Name, SHA256: f.SHA256, Raw: f.Raw, Rows: 21, NewRows: 21})
			out.Accepted = append(out.Accepted, f.Raw)
		}
		return out, nil
	}
}

// run retrains NFLX on files with opts and returns the result and error.
func (m *retrainMocks) run(opts pipeline.RetrainOptions, files ...pipeline.NewData) (pipeline.RetrainingResult, error) {
	m.env.ExecuteWorkflow(RetrainingPipeline, pipeline.RetrainingInput{Ticker: "nflx", Files: files, Options: opts})
	var res pipeline.RetrainingResult
	if !m.env.IsWorkflowCompleted() {
		return res, errors.New("workflow did not complete")
	}
	if err := m.env.GetWorkflowError(); err != nil {
		return res, err
	}
	return res, m.env.GetWorkflowResult(&res)
}

// mustRun is run that fails the test when the retrain fails.
func (m *retrainMocks) mustRun(t *testing.T, opts pipeline.RetrainOptions, files ...pipeline.NewData) pipeline.RetrainingResult {
	t.Helper()
	res, err := m.run(opts, files...)
	if err != nil {
		t.Fatalf("retrain failed: %v", err)
	}
	return res
}

func (m *retrainMocks) count(name string) int { return len(m.inputs[name]) }

// last is the input of name's last call (the test fails when it never ran).
func (m *retrainMocks) last(t *testing.T, name string) any {
	t.Helper()
	in := m.inputs[name]
	if len(in) == 0 {
		t.Fatalf("%s never ran; calls: %v", name, m.calls)
	}
	return in[len(in)-1]
}

func (m *retrainMocks) trainInput(t *testing.T) steps.TrainInput {
	t.Helper()
	return m.last(t, "Train").(steps.TrainInput)
}

// appErrorType is the type of err's application error ("" for none).
func appErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// ---- modes ----------------------------------------------------------------

func TestRetrainFinetuneIsTheDefault(t *testing.T) {
	m := mockedRetrain(t, nil)
	files := []pipeline.NewData{retrainFile("a.csv", true), retrainFile("b.csv", false)}
	res := m.mustRun(t, pipeline.RetrainOptions{}, files...)
	base := testBase()

	if n := m.count("Scale"); n != 0 {
		t.Fatalf("fine-tune fitted a new transform (Scale ran %d times)", n)
	}
	if w := m.last(t, "Window").(steps.WindowInput); w.Transform != base.Transform || w.Splits != testCleaned || w.Lookback != base.Lookback {
		t.Fatalf("Window input = %+v, want the base's transform %v on the cleaned splits with lookback %d", w, base.Transform, base.Lookback)
	}
	tr := m.trainInput(t)
	if tr.Init == nil || *tr.Init != base.Weights {
		t.Fatalf("Train.Init = %v, want the base's weights %v", tr.Init, base.Weights)
	}
	p := tr.Params
	if p.Epochs != 5 || p.Patience != 3 || !approx(p.LearningRate, base.Params.LearningRate*0.1) || p.LRDecay != 0 {
		t.Fatalf("fine-tune params = %+v, want epochs 5, patience 3, lr %g, no decay", p, base.Params.LearningRate*0.1)
	}
	if p.Layers != base.Params.Layers || p.Units != base.Params.Units || p.BatchSize != base.Params.BatchSize || p.Dropout != base.Params.Dropout {
		t.Fatalf("fine-tune changed the architecture: %+v vs base %+v", p, base.Params)
	}
	if tr.Windows != testWindows {
		t.Fatalf("Train windows = %+v, want %+v", tr.Windows, testWindows)
	}
	if ev := m.last(t, "Evaluate").(steps.EvaluateInput); ev.Transform != base.Transform {
		t.Fatalf("Evaluate transform = %v, want the base's %v", ev.Transform, base.Transform)
	}

	reg := m.last(t, "Register").(steps.RegisterInput)
	if reg.Retrain == nil {
		t.Fatal("Register got no retrain lineage")
	}
	wantParents := []blob.Ref{base.Raw, rawOf(files[0].CSVKey), rawOf(files[1].CSVKey)}
	if reg.Retrain.Mode != pipeline.ModeFinetune || reg.Retrain.BaseVersion != base.Version || !reflect.DeepEqual(reg.Retrain.Parents, wantParents) {
		t.Fatalf("lineage = %+v, want finetune of v%d with parents %v", *reg.Retrain, base.Version, wantParents)
	}
	if !reflect.DeepEqual(reg.Retrain.Files, []string{files[0].CSVKey, files[1].CSVKey}) {
		t.Fatalf("lineage files = %v", reg.Retrain.Files)
	}
	if reg.Transform != base.Transform || reg.Raw != dataRef("merged") || reg.Lookback != base.Lookback || reg.Horizon != base.Horizon || reg.Params != p {
		t.Fatalf("Register input = %+v", reg)
	}

	if res.Mode != pipeline.ModeFinetune || !strings.Contains(res.ModeReason, "finetune") {
		t.Fatalf("mode %q (%q), want finetune", res.Mode, res.ModeReason)
	}
	if res.Ticker != "NFLX" || res.ModelVersion != 5 || res.Base.Version != base.Version || res.Raw != dataRef("merged") || len(res.Parents) != 3 {
		t.Fatalf("result = %+v", res)
	}
	if s := res.Comparison.Scores; len(s) != 3 || s[0].Name != "v5 (new)" || s[0].Version != 5 || s[1].Name != "v4 (base)" {
		t.Fatalf("comparison scores = %+v, want the first renamed v5 (new)", s)
	}
	if !res.Promotion.Promoted || res.Promotion.PreviousVersion != 4 || res.ReportURI == "" || len(res.Curve) != 2 {
		t.Fatalf("result = %+v", res)
	}
	if res.Windows != [3]int{10, 10, 10} {
		t.Fatalf("windows = %v", res.Windows)
	}
}

func TestRetrainFullFitsANewTransformAndTrainsFromScratch(t *testing.T) {
	m := mockedRetrain(t, nil)
	res := m.mustRun(t, pipeline.RetrainOptions{Mode: pipeline.ModeFull}, retrainFile("a.csv", false))
	base := testBase()

	sc := m.last(t, "Scale").(steps.ScaleInput)
	if !reflect.DeepEqual(sc.Spec, base.Spec) || sc.Horizon != base.Horizon || sc.Splits != testCleaned {
		t.Fatalf("Scale input = %+v, want the base's spec %+v and horizon %d on the cleaned splits", sc, base.Spec, base.Horizon)
	}
	if w := m.last(t, "Window").(steps.WindowInput); w.Transform != newTransform {
		t.Fatalf("Window transform = %v, want the new one %v", w.Transform, newTransform)
	}
	tr := m.trainInput(t)
	if tr.Init != nil {
		t.Fatalf("full retrain warm-started from %v", *tr.Init)
	}
	if tr.Params != base.Params {
		t.Fatalf("full retrain params = %+v, want the base's %+v", tr.Params, base.Params)
	}
	reg := m.last(t, "Register").(steps.RegisterInput)
	if reg.Transform != newTransform || reg.Retrain == nil || reg.Retrain.Mode != pipeline.ModeFull {
		t.Fatalf("Register input = %+v", reg)
	}
	if ev := m.last(t, "Evaluate").(steps.EvaluateInput); ev.Transform != newTransform {
		t.Fatalf("Evaluate transform = %v, want %v", ev.Transform, newTransform)
	}
	if res.Mode != pipeline.ModeFull {
		t.Fatalf("mode = %q, want full", res.Mode)
	}
}

// Validate accepts a mode in any case and with spaces (ParseMode), so the
// mode that runs must be the one asked for, not auto's choice.
func TestRetrainModeIsNormalised(t *testing.T) {

	for _, tc := range []struct{ asked, want string }{{"FULL", pipeline.ModeFull}, {" full ", pipeline.ModeFull}, {"Finetune", pipeline.ModeFinetune}} {
		t.Run(tc.asked, func(t *testing.T) {
			drifted := pipeline.Drift{MaxJS: 0.5, Feature: "open", Threshold: 0.1, Exceeded: tc.want == pipeline.ModeFinetune}
			m := mockedRetrain(t, retrainOverrides{"CheckNewData": acceptAll(drifted)})
			res := m.mustRun(t, pipeline.RetrainOptions{Mode: tc.asked}, retrainFile("a.csv", false))
			if res.Mode != tc.want || strings.Contains(res.ModeReason, "auto") {
				t.Fatalf("mode %q asked for, %q ran (%q)", tc.asked, res.Mode, res.ModeReason)
			}
		})
	}
}

func TestRetrainAutoChoosesByDrift(t *testing.T) {
	for _, tc := range []struct {
		name     string
		drift    pipeline.Drift
		mode     string
		scaled   int
		reason   string
		warmInit bool
	}{
		{"drifted", pipeline.Drift{MaxJS: 0.31, Feature: "volume", Threshold: 0.1, Exceeded: true}, pipeline.ModeFull, 1, "0.31", false},
		{"steady", pipeline.Drift{MaxJS: 0.02, Feature: "open", Threshold: 0.1}, pipeline.ModeFinetune, 0, "0.02", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mockedRetrain(t, retrainOverrides{"CheckNewData": acceptAll(tc.drift)})
			res := m.mustRun(t, pipeline.RetrainOptions{Mode: pipeline.ModeAuto}, retrainFile("a.csv", true))
			// The reason says auto chose, by the drift: its size and feature.
			if res.Mode != tc.mode || !strings.Contains(res.ModeReason, "auto") || !strings.Contains(res.ModeReason, "drift") || !strings.Contains(res.ModeReason, tc.reason) {
				t.Fatalf("mode %q (%q), want %s with a reason giving the drift %s", res.Mode, res.ModeReason, tc.mode, tc.reason)
			}
			if !strings.Contains(res.ModeReason, tc.drift.Feature) {
				t.Fatalf("reason %q does not name the drifted feature %s", res.ModeReason, tc.drift.Feature)
			}
			if n := m.count("Scale"); n != tc.scaled {
				t.Fatalf("Scale ran %d times, want %d", n, tc.scaled)
			}
			if tr := m.trainInput(t); (tr.Init != nil) != tc.warmInit {
				t.Fatalf("Train.Init = %v, want warm start %v", tr.Init, tc.warmInit)
			}
			if ck := m.last(t, "CheckNewData").(steps.CheckNewDataInput); ck.DriftThreshold != 0.1 {
				t.Fatalf("drift threshold %g, want the default 0.1", ck.DriftThreshold)
			}
			if !reflect.DeepEqual(res.Drift, tc.drift) {
				t.Fatalf("result drift = %+v, want %+v", res.Drift, tc.drift)
			}
			if reg := m.last(t, "Register").(steps.RegisterInput); reg.Retrain.Mode != tc.mode {
				t.Fatalf("lineage mode %q, want %q", reg.Retrain.Mode, tc.mode)
			}
		})
	}
}

func TestRetrainUserOptionsOverrideDefaults(t *testing.T) {
	base := testBase()
	for _, mode := range []string{pipeline.ModeFinetune, pipeline.ModeFull} {
		t.Run(mode, func(t *testing.T) {
			m := mockedRetrain(t, nil)
			m.mustRun(t, pipeline.RetrainOptions{Mode: mode, Epochs: 12, LearningRate: 0.05, Patience: 6}, retrainFile("a.csv", false))
			p := m.trainInput(t).Params
			if p.Epochs != 12 || p.LearningRate != 0.05 || p.Patience != 6 {
				t.Fatalf("params = %+v, want the user's epochs 12, lr 0.05, patience 6", p)
			}
			if p.Units != base.Params.Units || p.Layers != base.Params.Layers {
				t.Fatalf("params = %+v lost the base's architecture", p)
			}
		})
	}
	t.Run("only epochs", func(t *testing.T) {
		m := mockedRetrain(t, nil)
		m.mustRun(t, pipeline.RetrainOptions{Epochs: 2}, retrainFile("a.csv", false))
		p := m.trainInput(t).Params
		if p.Epochs != 2 || p.Patience != 3 || !approx(p.LearningRate, base.Params.LearningRate*0.1) {
			t.Fatalf("params = %+v, want epochs 2 and the other fine-tune defaults", p)
		}
	})
}

// ---- data -----------------------------------------------------------------

func TestRetrainSplitsTheNewTailWithTheBaseContext(t *testing.T) {
	m := mockedRetrain(t, nil)
	m.mustRun(t, pipeline.RetrainOptions{TestFraction: 0.25, ValFraction: 0.15}, retrainFile("a.csv", false))
	base := testBase()
	in := m.last(t, "Split").(steps.SplitInput)
	if in.Tail == nil {
		t.Fatal("Split got no tail split")
	}
	want := prep.TailSplit{NewFrom: "2024-07-01", Val: 0.15, Test: 0.25, Context: base.Lookback + base.Horizon - 1}
	if *in.Tail != want || in.Raw != dataRef("merged") {
		t.Fatalf("Split input = %+v tail %+v, want tail %+v of the merged raw", in, *in.Tail, want)
	}
	if cl := m.last(t, "Clean").(steps.CleanInput); cl.Splits != testSplits || !reflect.DeepEqual(cl.Spec, base.Clean) {
		t.Fatalf("Clean input = %+v, want the splits with the base's clean spec", cl)
	}
	mg := m.last(t, "Merge").(steps.MergeInput)
	if mg.Ticker != "NFLX" || mg.Base != base.Raw || !reflect.DeepEqual(mg.Files, []blob.Ref{rawOf("uploads/sha-a.csv")}) {
		t.Fatalf("Merge input = %+v", mg)
	}
}

func TestRetrainRejectsBadFilesAndGoesOnWithTheRest(t *testing.T) {
	broken, conflicting, good := retrainFile("broken.csv", true), retrainFile("conflict.csv", false), retrainFile("good.csv", true)
	m := mockedRetrain(t, retrainOverrides{
		"Ingest": func(_ context.Context, in steps.IngestInput) (steps.IngestResult, error) {
			if in.CSVKey == broken.CSVKey {
				return steps.IngestResult{}, temporal.NewNonRetryableApplicationError("no Date column", steps.ErrInvalidData, nil)
			}
			return steps.IngestResult{Raw: rawOf(in.CSVKey)}, nil
		},
		"CheckNewData": func(_ context.Context, in steps.CheckNewDataInput) (steps.CheckNewDataResult, error) {
			var out steps.CheckNewDataResult
			for _, f := range in.Files {
				o := pipeline.FileOutcome{Name: f.Name, SHA256: f.SHA256, Raw: f.Raw}
				if f.SHA256 == conflicting.SHA256 {
					o.Rejected, o.Reason = true, "2024-07-02 open 101 conflicts with 100"
				} else {
					out.Accepted = append(out.Accepted, f.Raw)
				}
				out.Files = append(out.Files, o)
			}
			return out, nil
		},
	})
	res := m.mustRun(t, pipeline.RetrainOptions{}, broken, conflicting, good)

	if n := m.count("Ingest"); n != 3 {
		t.Fatalf("Ingest ran %d times, want once per file", n)
	}
	ck := m.last(t, "CheckNewData").(steps.CheckNewDataInput)
	if len(ck.Files) != 2 || ck.Files[0].SHA256 != conflicting.SHA256 || ck.Files[1].SHA256 != good.SHA256 {
		t.Fatalf("CheckNewData got %+v, want the two files that ingested", ck.Files)
	}
	if ck.Base.Version != testBase().Version {
		t.Fatalf("CheckNewData base = %+v", ck.Base)
	}
	// Only inbox files are moved aside: the conflicting one came by the hook.
	rj := m.last(t, "RejectFiles").(steps.RejectInput)
	if len(rj.Files) != 1 || rj.Files[0].SHA256 != broken.SHA256 || rj.Files[0].InboxKey != broken.InboxKey {
		t.Fatalf("RejectFiles got %+v, want only the broken inbox file", rj.Files)
	}
	if mg := m.last(t, "Merge").(steps.MergeInput); !reflect.DeepEqual(mg.Files, []blob.Ref{rawOf(good.CSVKey)}) {
		t.Fatalf("Merge files = %v, want only the good file's raw", mg.Files)
	}

	byName := map[string]pipeline.FileOutcome{}
	for _, f := range res.Files {
		byName[f.Name] = f
	}
	if len(res.Files) != 3 {
		t.Fatalf("outcomes = %+v, want one per file", res.Files)
	}
	if o := byName["broken.csv"]; !o.Rejected || !strings.Contains(o.Reason, "no Date column") || o.Moved != "inbox/NFLX/rejected/broken.csv" {
		t.Fatalf("broken file outcome = %+v", o)
	}
	if o := byName["conflict.csv"]; !o.Rejected || !strings.Contains(o.Reason, "conflicts") || o.Moved != "" {
		t.Fatalf("conflicting file outcome = %+v", o)
	}
	if o := byName["good.csv"]; o.Rejected || o.Moved != "" {
		t.Fatalf("good file outcome = %+v", o)
	}
	if res.ModelVersion != 5 {
		t.Fatalf("model version = %d", res.ModelVersion)
	}
}

func TestRetrainDoesNotMoveAnythingWhenNoInboxFileIsRejected(t *testing.T) {
	m := mockedRetrain(t, nil)
	m.mustRun(t, pipeline.RetrainOptions{}, retrainFile("a.csv", true), retrainFile("b.csv", false))
	if n := m.count("RejectFiles"); n != 0 {
		t.Fatalf("RejectFiles ran %d times with nothing rejected", n)
	}
}

func TestRetrainFailsWhenEveryFileIsRejected(t *testing.T) {
	a, b := retrainFile("a.csv", true), retrainFile("b.csv", false)
	m := mockedRetrain(t, retrainOverrides{
		"Ingest": func(_ context.Context, in steps.IngestInput) (steps.IngestResult, error) {
			if in.CSVKey == a.CSVKey {
				return steps.IngestResult{}, temporal.NewNonRetryableApplicationError("empty file", steps.ErrInvalidData, nil)
			}
			return steps.IngestResult{}, temporal.NewNonRetryableApplicationError("object gone", steps.ErrNotFound, nil)
		},
	})
	_, err := m.run(pipeline.RetrainOptions{}, a, b)
	if err == nil {
		t.Fatal("a retrain with every file rejected succeeded")
	}
	if typ := appErrorType(err); typ != steps.ErrInvalidData {
		t.Fatalf("error type %q (%v), want InvalidData", typ, err)
	}
	for _, want := range []string{"validate failed", "every new file was rejected", "a.csv: empty file", "b.csv: object gone"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
	for _, never := range []string{"CheckNewData", "Merge", "Split", "Train", "Register", "Promote", "Report"} {
		if n := m.count(never); n != 0 {
			t.Fatalf("%s ran %d times after every file was rejected; calls %v", never, n, m.calls)
		}
	}
	if rj := m.last(t, "RejectFiles").(steps.RejectInput); len(rj.Files) != 1 || rj.Files[0].SHA256 != a.SHA256 {
		t.Fatalf("RejectFiles got %+v, want the inbox file only", rj.Files)
	}
	last := m.records[len(m.records)-1]
	if last.Status != runs.StatusFailed || last.Stage != "validate" || last.RetrainResult == nil || len(last.RetrainResult.Files) != 2 {
		t.Fatalf("last record = status %q stage %q result %+v", last.Status, last.Stage, last.RetrainResult)
	}
}

func TestRetrainFailsOnAStoreErrorDuringIngest(t *testing.T) {
	m := mockedRetrain(t, retrainOverrides{
		"Ingest": func(context.Context, steps.IngestInput) (steps.IngestResult, error) {
			return steps.IngestResult{}, temporal.NewNonRetryableApplicationError("bucket unreachable", "StoreDown", nil)
		},
	})
	_, err := m.run(pipeline.RetrainOptions{}, retrainFile("a.csv", true), retrainFile("b.csv", true))
	if err == nil || appErrorType(err) != "StoreDown" || !strings.Contains(err.Error(), "ingest failed") {
		t.Fatalf("error = %v, want the ingest step's StoreDown failure", err)
	}
	if n := m.count("Ingest"); n != 1 {
		t.Fatalf("Ingest ran %d times, want the first failure to stop the step", n)
	}
	if n := m.count("RejectFiles"); n != 0 {
		t.Fatal("a store failure rejected files")
	}
}

// ---- failures before the data ---------------------------------------------

func TestRetrainWithoutAModelFailsWithNoModel(t *testing.T) {
	m := mockedRetrain(t, retrainOverrides{
		"ResolveBase": func(context.Context, steps.ResolveBaseInput) (pipeline.BaseModel, error) {
			return pipeline.BaseModel{}, temporal.NewNonRetryableApplicationError("NFLX has no registered model", steps.ErrNoModel, nil)
		},
	})
	_, err := m.run(pipeline.RetrainOptions{}, retrainFile("a.csv", true))
	if typ := appErrorType(err); typ != steps.ErrNoModel {
		t.Fatalf("error type %q (%v), want NoModel", typ, err)
	}
	if !strings.Contains(err.Error(), "base failed") {
		t.Fatalf("error %q does not name the base step", err)
	}
	if !reflect.DeepEqual(m.calls, []string{"ResolveBase"}) {
		t.Fatalf("calls = %v, want only ResolveBase", m.calls)
	}
	if in := m.last(t, "ResolveBase").(steps.ResolveBaseInput); in.Ticker != "NFLX" {
		t.Fatalf("ResolveBase ticker %q", in.Ticker)
	}
}

func TestRetrainRejectsBadInputBeforeAnyActivity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ticker string
		opts   pipeline.RetrainOptions
		files  []pipeline.NewData
	}{
		{"bogus mode", "NFLX", pipeline.RetrainOptions{Mode: "bogus"}, []pipeline.NewData{retrainFile("a.csv", true)}},
		{"fractions leave nothing to train", "NFLX", pipeline.RetrainOptions{TestFraction: 0.9, ValFraction: 0.2}, []pipeline.NewData{retrainFile("a.csv", true)}},
		{"negative epochs", "NFLX", pipeline.RetrainOptions{Epochs: -1}, []pipeline.NewData{retrainFile("a.csv", true)}},
		{"no files", "NFLX", pipeline.RetrainOptions{}, nil},
		{"bad ticker", "../etc", pipeline.RetrainOptions{}, []pipeline.NewData{retrainFile("a.csv", true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mockedRetrain(t, nil)
			m.env.ExecuteWorkflow(RetrainingPipeline, pipeline.RetrainingInput{Ticker: tc.ticker, Files: tc.files, Options: tc.opts})
			err := m.env.GetWorkflowError()
			if typ := appErrorType(err); typ != steps.ErrInvalidParams {
				t.Fatalf("error type %q (%v), want InvalidParams", typ, err)
			}
			if len(m.calls) != 0 || len(m.records) != 0 {
				t.Fatalf("activities ran for bad input: %v, %d records", m.calls, len(m.records))
			}
		})
	}
}

// ---- the run record -------------------------------------------------------

func TestRetrainRecordsItsStepsInOrder(t *testing.T) {
	m := mockedRetrain(t, nil)
	files := []pipeline.NewData{retrainFile("a.csv", true), retrainFile("b.csv", true)}
	m.mustRun(t, pipeline.RetrainOptions{}, files...)
	if len(m.records) == 0 {
		t.Fatal("no run record saved")
	}
	last := m.records[len(m.records)-1]
	var names []string
	for _, s := range last.Steps {
		names = append(names, s.Name)
	}
	want := []string{"base", "ingest", "validate", "merge", "split", "clean", "scale", "window", "train", "evaluate", "compare", "register", "promote"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("recorded steps %v, want %v", names, want)
	}
	if last.Status != runs.StatusCompleted || last.Ticker != "NFLX" || last.Workflow != pipeline.RetrainingWorkflow {
		t.Fatalf("record status %q ticker %q workflow %q", last.Status, last.Ticker, last.Workflow)
	}
	if last.Retrain == nil || len(last.Retrain.Files) != 2 || last.Data.CSV != files[0].CSVKey {
		t.Fatalf("record retrain input %+v, csv %q", last.Retrain, last.Data.CSV)
	}
	if last.RetrainResult == nil || last.RetrainResult.ModelVersion != 5 || last.Data.Raw != dataRef("merged") {
		t.Fatalf("record result %+v raw %v", last.RetrainResult, last.Data.Raw)
	}
	if last.Promotion == nil || !last.Promotion.Promoted || last.Artifacts["report"] == "" {
		t.Fatalf("record promotion %+v artifacts %v", last.Promotion, last.Artifacts)
	}
	if last.Data.Splits != [3]blob.Ref{testSplits.Train, testSplits.Val, testSplits.Test} ||
		last.Data.Cleaned != [3]blob.Ref{testCleaned.Train, testCleaned.Val, testCleaned.Test} ||
		last.Data.Windows != [3]blob.Ref{testWindows.Train, testWindows.Val, testWindows.Test} {
		t.Fatalf("record data = %+v", last.Data)
	}
	wantCalls := []string{"ResolveBase", "Ingest", "Ingest", "CheckNewData", "Merge", "Split", "Clean", "Window", "Train", "Evaluate", "Compare", "Register", "Promote", "Report"}
	if !reflect.DeepEqual(m.calls, wantCalls) {
		t.Fatalf("activity calls %v, want %v", m.calls, wantCalls)
	}
}

func TestRetrainFailureInALaterStepIsNamedAndStops(t *testing.T) {
	m := mockedRetrain(t, retrainOverrides{
		"Train": func(context.Context, steps.TrainInput) (steps.TrainResult, error) {
			return steps.TrainResult{}, temporal.NewNonRetryableApplicationError("loss is NaN", steps.ErrInvalidData, nil)
		},
	})
	_, err := m.run(pipeline.RetrainOptions{}, retrainFile("a.csv", true))
	if appErrorType(err) != steps.ErrInvalidData || !strings.Contains(err.Error(), "train failed: loss is NaN") {
		t.Fatalf("error = %v, want the train step's InvalidData failure", err)
	}
	for _, never := range []string{"Evaluate", "Compare", "Register", "Promote", "Report"} {
		if m.count(never) != 0 {
			t.Fatalf("%s ran after training failed: %v", never, m.calls)
		}
	}
	last := m.records[len(m.records)-1]
	if last.Status != runs.StatusFailed || last.Stage != "train" || !strings.Contains(last.Error, "loss is NaN") {
		t.Fatalf("last record status %q stage %q error %q", last.Status, last.Stage, last.Error)
	}
}

// The registered lineage must name the files the model was trained on, not
// the ones rejected on the way.
func TestRetrainLineageNamesOnlyMergedFiles(t *testing.T) {

	broken, good := retrainFile("broken.csv", true), retrainFile("good.csv", true)
	m := mockedRetrain(t, retrainOverrides{
		"Ingest": func(_ context.Context, in steps.IngestInput) (steps.IngestResult, error) {
			if in.CSVKey == broken.CSVKey {
				return steps.IngestResult{}, temporal.NewNonRetryableApplicationError("no Date column", steps.ErrInvalidData, nil)
			}
			return steps.IngestResult{Raw: rawOf(in.CSVKey)}, nil
		},
	})
	m.mustRun(t, pipeline.RetrainOptions{}, broken, good)
	reg := m.last(t, "Register").(steps.RegisterInput)
	if !reflect.DeepEqual(reg.Retrain.Files, []string{good.CSVKey}) || reg.CSVKey != good.CSVKey {
		t.Fatalf("lineage files %v csv %q, want only the merged %s", reg.Retrain.Files, reg.CSVKey, good.CSVKey)
	}
}
