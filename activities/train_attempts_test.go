package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// attemptStore records which activity attempt wrote each key. On the first
// attempt it is slow to read the training windows (longer than the
// heartbeat timeout) and fails the second checkpoint write, as a dropped
// connection would.
type attemptStore struct {
	blob.Store
	slowKey string
	slow    time.Duration

	mu      sync.Mutex
	writers map[string][]int32
	ckpts   int // checkpoint writes by attempt 1
}

func attemptOf(ctx context.Context) int32 {
	if !activity.IsActivity(ctx) {
		return 0
	}
	return activity.GetInfo(ctx).Attempt
}

func (s *attemptStore) wrote(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := attemptOf(ctx)
	if !slices.Contains(s.writers[key], n) {
		s.writers[key] = append(s.writers[key], n)
	}
	if n == 1 && strings.Contains(key, "/checkpoints/") {
		if s.ckpts++; s.ckpts == 2 {
			return errors.New("connection reset by peer")
		}
	}
	return nil
}

func (s *attemptStore) Put(ctx context.Context, key string, r io.Reader) error {
	if err := s.wrote(ctx, key); err != nil {
		return err
	}
	return s.Store.Put(ctx, key, r)
}

func (s *attemptStore) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	if err := s.wrote(ctx, key); err != nil {
		return err
	}
	return s.Store.PutIfAbsent(ctx, key, r)
}

func (s *attemptStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == s.slowKey && attemptOf(ctx) == 1 {
		time.Sleep(s.slow)
	}
	return s.Store.Get(ctx, key)
}

// trainWithRetries runs Train as a workflow would: a 1 s heartbeat timeout
// and retries.
func trainWithRetries(ctx workflow.Context, in steps.TrainInput) (steps.TrainResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumAttempts: 4},
	})
	var out steps.TrainResult
	err := workflow.ExecuteActivity(ctx, "Train", in).Get(ctx, &out)
	return out, err
}

func TestNoTwoTrainingAttemptsWriteOneArtifact(t *testing.T) {
	h := newHarness(t)
	_, _, _, _, win := h.prepared(yahooCSV(200), 10, priceSpec)
	store := &attemptStore{Store: h.acts.Store, slowKey: win.Train.Key, slow: 2500 * time.Millisecond, writers: map[string][]int32{}}
	acts := *h.acts
	acts.Store = store

	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(trainWithRetries)
	env.RegisterActivityWithOptions(acts.Train, activity.RegisterOptions{Name: "Train"})
	params := pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 3, BatchSize: 16, LearningRate: 0.01, Seed: 1}
	env.ExecuteWorkflow(trainWithRetries, steps.TrainInput{RunID: "run-attempts", Windows: win, Params: params})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var tr steps.TrainResult
	if err := env.GetWorkflowResult(&tr); err != nil {
		t.Fatal(err)
	}
	// Attempt 1 read its windows for longer than the heartbeat timeout and
	// was still alive; it failed at its second checkpoint; attempt 2
	// resumed from its first.
	if tr.Attempt != 2 || tr.ResumedFrom != 1 || tr.EpochsRun != 2 {
		t.Fatalf("training finished on attempt %d resumed from epoch %d after %d epochs; want attempt 2 resuming from epoch 1",
			tr.Attempt, tr.ResumedFrom, tr.EpochsRun)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	for key, by := range store.writers {
		if len(by) > 1 {
			t.Errorf("%s was written by attempts %v: a stale attempt could overwrite a newer one's", key, by)
		}
	}
	if !strings.Contains(tr.Weights.Key, tr.Weights.SHA256[:16]) {
		t.Errorf("weights key %s is not keyed by their content %s", tr.Weights.Key, tr.Weights.SHA256)
	}
	if t.Failed() {
		t.Log(fmt.Sprint(store.writers))
	}
}
