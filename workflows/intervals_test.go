package workflows

import (
	"errors"
	"slices"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// Bad interval levels, or a gate that does not exist, fail the run
// before its first step.
func TestTrainingPipelineRejectsBadOptionsBeforeAnyStep(t *testing.T) {
	for name, in := range map[string]pipeline.TrainingInput{
		"level 1":          {IntervalLevels: []float64{0.8, 1}},
		"unknown gate":     {Gate: "vibes"},
		"alpha with split": {Alpha: 0.1},
	} {
		t.Run(name, func(t *testing.T) {
			env, order, _ := mockedPipeline(t, "", nil)
			in.Ticker, in.CSVKey = "NFLX", "uploads/x.csv"
			env.ExecuteWorkflow(TrainingPipeline, in)
			var appErr *temporal.ApplicationError
			if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != steps.ErrInvalidParams || !appErr.NonRetryable() {
				t.Fatalf("error = %v, want a non-retryable InvalidParams", err)
			}
			if len(*order) != 0 {
				t.Fatalf("steps ran: %v", *order)
			}
		})
	}
}

// Evaluate gets the validation windows to calibrate the intervals on and
// the levels asked for.
func TestTrainingPipelineCalibratesIntervalsOnValidation(t *testing.T) {
	env, _, inputs := mockedPipeline(t, "", nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv", IntervalLevels: []float64{0.5, 0.9}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	in, ok := inputs[steps.Evaluate].(steps.EvaluateInput)
	if !ok {
		t.Fatalf("evaluate input %#v", inputs[steps.Evaluate])
	}
	if in.Val.Key != "val" || in.Test.Key != "test" || !slices.Equal(in.Levels, []float64{0.5, 0.9}) {
		t.Errorf("evaluate got val %q, test %q, levels %v; want the validation windows, the test windows and 0.5, 0.9", in.Val.Key, in.Test.Key, in.Levels)
	}
}
