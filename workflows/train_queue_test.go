package workflows

import (
	"testing"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
)

// A CPU run sends the steps that train or load a model to the train queue
// of its own task queue, where a worker runs at most --train-slots of them
// at a time; the light steps stay on the workflow's queue.
func TestCPURunTrainsOnTheTrainQueue(t *testing.T) {
	env, _, _ := mockedPipeline(t, "", nil)
	spy := newOptionsSpy()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{spy}})
	env.ExecuteWorkflow(TrainingPipeline, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: "uploads/x.csv"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	const own = "default-test-taskqueue" // the test environment's task queue
	want := config.TrainQueue(own)
	for _, step := range []string{"Train", "Evaluate"} {
		if o, ok := spy.of(step); !ok || o.TaskQueue != want {
			t.Errorf("%s scheduled on %q (scheduled: %v), want %q", step, o.TaskQueue, ok, want)
		}
	}
	for _, step := range []string{"Plot", "Register", "Promote"} {
		if o, ok := spy.of(step); !ok || o.TaskQueue != own {
			t.Errorf("%s scheduled on %q (scheduled: %v), want the workflow's own queue %q", step, o.TaskQueue, ok, own)
		}
	}
}

func TestTrainQueueName(t *testing.T) {
	if got := config.TrainQueue(config.DefaultTaskQueue); got != "finsight-train" {
		t.Fatalf("TrainQueue(%q) = %q, want finsight-train", config.DefaultTaskQueue, got)
	}
}
