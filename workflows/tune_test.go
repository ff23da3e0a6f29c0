package workflows

import (
	"context"
	"math"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// fakeLoss is a validation loss that prefers 96 units and 2 layers.
func fakeLoss(p pipeline.ModelParams, epoch int) float64 {
	return math.Abs(float64(p.Units)-96)/100 + math.Abs(float64(p.Layers)-2)/5 + 1/float64(epoch+1)
}

func TestTuneRecordsEveryTrialAndPicksTheBest(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerSteps(env)
	env.RegisterWorkflow(Tune)
	var calls, withReference atomic.Int32
	env.OnActivity(steps.TrainTrial, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in steps.TrialInput) (steps.TrialResult, error) {
			calls.Add(1)
			if len(in.Reference.Counts) > 0 {
				withReference.Add(1)
			}
			r := steps.TrialResult{Trial: in.Trial, Params: in.Params, Best: math.Inf(1)}
			for e := 1; e <= in.Params.Epochs; e++ {
				v := fakeLoss(in.Params, e)
				r.ValCurve = append(r.ValCurve, v)
				r.Best, r.Epochs = math.Min(r.Best, v), e
			}
			return r, nil
		})
	base := pipeline.ModelParams{Epochs: 9, Seed: 4, ClipNorm: 1}
	env.ExecuteWorkflow(Tune, TuneInput{Base: base, Spec: pipeline.TuneSpec{Trials: 10, Concurrency: 3, Sampler: "tpe", Epochs: 2, Seed: 5}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res TuneResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(res.Trials) != 10 || calls.Load() != 10 {
		t.Fatalf("%d trials recorded, %d run; want 10", len(res.Trials), calls.Load())
	}
	if withReference.Load() == 0 {
		t.Fatal("no trial got finished trials' curves for the median pruner")
	}
	best := math.Inf(1)
	ids := map[int]bool{}
	for _, tr := range res.Trials {
		ids[tr.ID] = true
		if tr.Epochs != 2 || len(tr.ValCurve) != 2 {
			t.Fatalf("trial %d ran %d epochs, want 2 (the search's epochs)", tr.ID, tr.Epochs)
		}
		best = math.Min(best, tr.Best)
	}
	if len(ids) != 10 {
		t.Fatalf("trial ids %v are not 10 distinct ones", ids)
	}
	var bestTrial pipeline.Trial
	for _, tr := range res.Trials {
		if tr.ID == res.BestID {
			bestTrial = tr
		}
	}
	if bestTrial.Best != best {
		t.Fatalf("best trial #%d scored %v, the lowest was %v", res.BestID, bestTrial.Best, best)
	}
	if res.Best.Units != bestTrial.Params.Units || res.Best.Layers != bestTrial.Params.Layers ||
		res.Best.Epochs != 9 || res.Best.Seed != 4 || res.Best.ClipNorm != 1 {
		t.Fatalf("best params %+v: want the best trial's architecture with the base epochs, seed and clipping", res.Best)
	}
}

func TestTrainingPipelineTrainsTheTunedParams(t *testing.T) {
	env, order, inputs := mockedPipeline(t, "", nil)
	env.RegisterWorkflow(Tune)
	tuned := pipeline.ModelParams{Layers: 3, Units: 77, Epochs: 10, BatchSize: 32, LearningRate: 0.002, Seed: 1}
	env.OnWorkflow(pipeline.TuneWorkflow, mock.Anything, mock.Anything).Return(TuneResult{Best: tuned, BestID: 4,
		Trials: []pipeline.Trial{{ID: 4, Params: tuned, Best: 0.1}}}, nil)
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv",
		Tune: pipeline.TuneSpec{Trials: 5}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res pipeline.TrainingResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.BestTrial != 4 || len(res.Tuning) != 1 {
		t.Fatalf("result tuning %+v best %d", res.Tuning, res.BestTrial)
	}
	train, ok := inputs["Train"].(steps.TrainInput)
	if !ok || train.Params != tuned {
		t.Fatalf("Train ran with %+v, want the tuned params %+v (steps %v)", inputs["Train"], tuned, *order)
	}
	reg, ok := inputs["Register"].(steps.RegisterInput)
	if !ok || reg.Params != tuned {
		t.Fatalf("Register recorded %+v, want the tuned params", inputs["Register"])
	}
}
