package workflows_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/workflows"
)

// historiesDir holds recorded histories of finished executions (`make
// record-histories` writes them).
const historiesDir = "testdata/histories"

// Every recorded history replays on the current workflow code. A change
// that makes a running workflow take another path (a step added, removed
// or reordered, another activity, child or timer) fails here: it would
// break the executions open when the new worker is deployed. Guard such a
// change with workflow.GetVersion so old histories keep their path;
// re-record only when no execution of the old code can be running.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no recorded histories in workflows/%s: run `make record-histories`", historiesDir)
	}
	sort.Strings(files)
	covered := map[string]bool{}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			h := readHistory(t, path)
			started := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
			covered[started.GetWorkflowType().GetName()] = true
			r := worker.NewWorkflowReplayer()
			// The workflows under the names the worker registers them by;
			// activities do not run on replay (the history has their results).
			workflows.Register(r)
			// Replay under the recorded workflow id (ReplayWorkflowHistoryFromJSONFile
			// would use "ReplayId"): child ids such as <id>-tune derive from it.
			err := r.ReplayWorkflowHistoryWithOptions(testLogger{t}, h, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: started.GetWorkflowId(), RunID: started.GetOriginalExecutionRunId()},
			})
			if err != nil {
				t.Fatalf("%s (%s) no longer replays on the current workflow code: %v\n\n"+
					"This change would break executions already running. Keep their path with "+
					"workflow.GetVersion around the change. Only if no execution of the old code can "+
					"still be running, re-record the histories with `make record-histories`.",
					path, started.GetWorkflowType().GetName(), err)
			}
		})
	}
	for _, want := range []string{pipeline.TrainingWorkflow, pipeline.RetrainingWorkflow, pipeline.TickerWorkflow} {
		if !covered[want] {
			t.Errorf("no recorded history of %s in workflows/%s: run `make record-histories`", want, historiesDir)
		}
	}
}

// readHistory reads a history in the JSON of `temporal workflow show
// --output json`.
func readHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(h.Events) == 0 || h.Events[0].GetWorkflowExecutionStartedEventAttributes() == nil {
		t.Fatalf("%s: the history does not begin with WorkflowExecutionStarted", path)
	}
	return h
}

// testLogger sends the replayer's warnings and errors to the test log,
// without the SDK's own stack traces.
type testLogger struct{ t *testing.T }

func (testLogger) Debug(string, ...any) {}
func (testLogger) Info(string, ...any)  {}
func (l testLogger) Warn(msg string, kv ...any) {
	l.t.Helper()
	l.t.Log(append([]any{"WARN", msg}, withoutStack(kv)...)...)
}
func (l testLogger) Error(msg string, kv ...any) {
	l.t.Helper()
	l.t.Log(append([]any{"ERROR", msg}, withoutStack(kv)...)...)
}

func withoutStack(kv []any) []any {
	out := make([]any, 0, len(kv))
	for i := 0; i < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok && k == "StackTrace" {
			continue
		}
		out = append(out, kv[i:min(i+2, len(kv))]...)
	}
	return out
}
