package workflows

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// mockedPipeline registers every step as a mock that records its name.
func mockedPipeline(t *testing.T, failAt string, failure error) (*testsuite.TestWorkflowEnvironment, *[]string, map[string]any) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	order := &[]string{}
	inputs := map[string]any{}
	ref := func(k string) blob.Ref { return blob.Ref{Key: k, SHA256: k, Rows: 10} }
	splits := steps.Splits{Train: ref("train"), Val: ref("val"), Test: ref("test")}
	mocks := []struct {
		name   string
		result any
	}{
		{steps.Ingest, steps.IngestResult{Raw: ref("raw")}},
		{steps.Split, splits},
		{steps.Validate, steps.ValidateResult{Counts: map[string]int{"warning": 2}}},
		{steps.Clean, steps.CleanResult{Splits: splits}},
		{steps.Plot, steps.PlotResult{Plots: map[string]string{"plots/data_raw_prices.png": "file:///runs/x/plots/data_raw_prices.png"}}},
		{steps.Scale, steps.ScaleResult{Transform: ref("transform")}},
		{steps.Window, splits},
		{steps.Train, steps.TrainResult{Weights: ref("weights"), Curve: []pipeline.EpochLoss{{Epoch: 1}}}},
		{steps.Evaluate, steps.EvaluateResult{Metrics: metrics.TestSummary{TestRMSE: 1, NaiveRMSE: 2, N: 10}}},
		{steps.Register, steps.RegisterResult{Version: 3, URI: "file:///m/v3"}},
		{steps.Promote, pipeline.Promotion{Alias: "champion", Promoted: true, Reason: "no champion yet"}},
		{steps.Report, steps.ReportResult{Artifacts: map[string]string{"report": "file:///runs/x/report.html"}}},
	}
	env.OnActivity(steps.SaveRun, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		saved, _ := inputs["SaveRun"].([]runs.Record)
		inputs["SaveRun"] = append(saved, args.Get(1).(runs.Record)) // every save, in order
	}).Return(steps.SaveRunResult{}, nil)
	for _, st := range mocks {
		name := st.name
		call := env.OnActivity(name, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
			*order = append(*order, name)
			inputs[name] = args.Get(1)
		})
		if name == failAt {
			call.Return(reflect.Zero(reflect.TypeOf(st.result)).Interface(), failure)
		} else {
			call.Return(st.result, nil)
		}
	}
	return env, order, inputs
}

func TestTrainingPipelineRunsStepsInOrder(t *testing.T) {
	env, order, _ := mockedPipeline(t, "", nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "nflx", CSVKey: "uploads/x.csv"})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	want := []string{"Ingest", "Split", "Validate", "Clean", "Plot", "Scale", "Window", "Train", "Evaluate", "Register", "Promote", "Report"}
	if len(*order) != len(want) {
		t.Fatalf("steps ran %v, want %v", *order, want)
	}
	for i := range want {
		if (*order)[i] != want[i] {
			t.Fatalf("steps ran %v, want %v", *order, want)
		}
	}
	var res pipeline.TrainingResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Ticker != "NFLX" || res.ModelVersion != 3 || res.Metrics.NaiveRMSE != 2 || len(res.Curve) != 1 || res.ReportURI == "" {
		t.Fatalf("result = %+v", res)
	}
}

func TestTrainingPipelineFailsWithTheFailingStepsError(t *testing.T) {
	for _, step := range []string{"Ingest", "Validate", "Window", "Train", "Register"} {
		t.Run(step, func(t *testing.T) {
			failure := temporal.NewNonRetryableApplicationError("bad data in row 7", steps.ErrInvalidData, nil)
			env, order, _ := mockedPipeline(t, step, failure)
			env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv"})
			err := env.GetWorkflowError()
			if err == nil {
				t.Fatal("workflow succeeded")
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != steps.ErrInvalidData {
				t.Fatalf("error %v does not carry the step's InvalidData application error", err)
			}
			if !strings.Contains(err.Error(), strings.ToLower(step)+" failed: bad data in row 7") {
				t.Fatalf("error %q does not name the failing step and its cause", err)
			}
			if last := (*order)[len(*order)-1]; last != step {
				t.Fatalf("a step ran after the failing %s: %v", step, *order)
			}
		})
	}
}

func TestTrainingPipelineRejectsBadTickerBeforeAnyStep(t *testing.T) {
	env, order, _ := mockedPipeline(t, "", nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "../etc", CSVKey: "uploads/x.csv"})
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != steps.ErrInvalidParams {
		t.Fatalf("error = %v, want InvalidParams", err)
	}
	if len(*order) != 0 {
		t.Fatalf("steps ran for a bad ticker: %v", *order)
	}
}
