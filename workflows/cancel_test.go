package workflows

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// cancellingTrials mocks TrainTrial: trials below finish finish at once,
// the others wait for their cancellation, and the first of those cancels
// the workflow under test (as a user pressing Cancel in the Web UI would).
func cancellingTrials(env *testsuite.TestWorkflowEnvironment, finish int) {
	var once sync.Once
	env.OnActivity(steps.TrainTrial, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in steps.TrialInput) (steps.TrialResult, error) {
			if in.Trial < finish {
				v := fakeLoss(in.Params, 1)
				return steps.TrialResult{Trial: in.Trial, Params: in.Params, ValCurve: []float64{v}, Best: v, Epochs: 1}, nil
			}
			once.Do(func() { env.CancelWorkflow() })
			<-ctx.Done()
			return steps.TrialResult{}, ctx.Err()
		})
}

func TestCancelledTuneEndsCancelledNotWithTheTrialsItFinished(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	env.RegisterWorkflow(Tune)
	cancellingTrials(env, 2)
	env.ExecuteWorkflow(Tune, TuneInput{Base: pipeline.ModelParams{Epochs: 3}, Spec: pipeline.TuneSpec{Trials: 8, Concurrency: 3, Epochs: 1, Seed: 1}})
	err := env.GetWorkflowError()
	if err == nil {
		t.Fatal("a cancelled search succeeded with the trials it had finished")
	}
	if !temporal.IsCanceledError(err) {
		t.Fatalf("a cancelled search failed with %v, want a cancellation", err)
	}
}

func TestCancellingTheSearchCancelsTheTrainingRun(t *testing.T) {
	env, order, inputs := mockedPipeline(t, "", nil)
	env.RegisterWorkflow(Tune)
	cancellingTrials(env, 2)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv",
		Tune: pipeline.TuneSpec{Trials: 6, Concurrency: 3, Epochs: 1, Seed: 1}})
	err := env.GetWorkflowError()
	if !temporal.IsCanceledError(err) {
		t.Fatalf("run ended with %v, want cancelled", err)
	}
	for _, step := range []string{"Train", "Register", "Promote"} {
		if slices.Contains(*order, step) {
			t.Fatalf("%s ran after the search was cancelled: %v", step, *order)
		}
	}
	saved := inputs["SaveRun"].([]runs.Record)
	last := saved[len(saved)-1]
	if last.Status != runs.StatusCancelled || last.Stage != "tune" || last.FinishedAt == nil {
		t.Fatalf("record saved as %q at stage %q (finished %v), want cancelled at tune", last.Status, last.Stage, last.FinishedAt)
	}
}

func TestLongSearchContinuesAsNewAndKeepsEveryTrial(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	env.RegisterWorkflow(Tune)
	var maxRef int
	var mu sync.Mutex
	env.OnActivity(steps.TrainTrial, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.TrialInput) (steps.TrialResult, error) {
			mu.Lock()
			maxRef = max(maxRef, len(in.Reference.Counts))
			mu.Unlock()
			r := steps.TrialResult{Trial: in.Trial, Params: in.Params, Best: math.Inf(1)}
			for e := 1; e <= in.Params.Epochs; e++ {
				v := fakeLoss(in.Params, e)
				r.ValCurve = append(r.ValCurve, v)
				r.Best, r.Epochs = math.Min(r.Best, v), e
			}
			return r, nil
		})
	env.ExecuteWorkflow(Tune, TuneInput{Base: pipeline.ModelParams{Epochs: 3}, Spec: pipeline.TuneSpec{Trials: trialsPerRun + 5, Concurrency: 4, Epochs: 2, Seed: 1}})
	err := env.GetWorkflowError()
	if err == nil {
		t.Fatalf("a search of %d trials did not continue as new after %d", trialsPerRun+5, trialsPerRun)
	}
	cont, ok := asContinueAsNew(err)
	if !ok {
		t.Fatalf("search ended with %v, want continue-as-new", err)
	}
	var next TuneInput
	if err := decodeContinueAsNew(cont, &next); err != nil {
		t.Fatal(err)
	}
	if next.Done == nil || len(next.Done.Trials) != trialsPerRun || len(next.Done.History) != trialsPerRun {
		t.Fatalf("carried %+v, want the %d trials run so far", next.Done, trialsPerRun)
	}
	if maxRef > 2 {
		t.Fatalf("a trial got a reference of %d epochs, want per-epoch medians (2 epochs)", maxRef)
	}

	// The continued run finishes the search with every trial.
	env2 := s.NewTestWorkflowEnvironment()
	registerSteps(env2)
	env2.RegisterWorkflow(Tune)
	env2.OnActivity(steps.TrainTrial, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.TrialInput) (steps.TrialResult, error) {
			if in.Trial < trialsPerRun {
				t.Errorf("trial %d ran again after continue-as-new", in.Trial)
			}
			v := fakeLoss(in.Params, 1)
			return steps.TrialResult{Trial: in.Trial, Params: in.Params, ValCurve: []float64{v, v}, Best: v, Epochs: 2}, nil
		})
	env2.ExecuteWorkflow(Tune, next)
	if err := env2.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res TuneResult
	if err := env2.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(res.Trials) != trialsPerRun+5 {
		t.Fatalf("%d trials in the result, want %d", len(res.Trials), trialsPerRun+5)
	}
}

// asContinueAsNew finds the continue-as-new a workflow ended with.
func asContinueAsNew(err error) (*workflow.ContinueAsNewError, bool) {
	var cont *workflow.ContinueAsNewError
	return cont, errors.As(err, &cont)
}

// decodeContinueAsNew decodes the continued run's single input.
func decodeContinueAsNew(cont *workflow.ContinueAsNewError, into any) error {
	return converter.GetDefaultDataConverter().FromPayloads(cont.Input, into)
}
