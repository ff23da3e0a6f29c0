//go:build record

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
)

// TestRecordHistories is not a test but the generator of the histories
// that workflows/replay_test.go replays (`make record-histories`); it is
// built only with the "record" tag, so make test never sees it. It runs
// every long-lived workflow type on real, small data against a dev server
// and writes each finished execution's full event history as JSON (the
// format of `temporal workflow show --output json`) to
// workflows/testdata/histories/ ($FINSIGHT_HISTORIES_DIR overrides).
//
// Re-record only when a change is meant to break running workflows (after
// draining them); otherwise keep the old histories and guard the change
// with workflow.GetVersion so that both replay.
func TestRecordHistories(t *testing.T) {
	dir := os.Getenv("FINSIGHT_HISTORIES_DIR")
	if dir == "" {
		dir = filepath.Join("..", "workflows", "testdata", "histories")
	}
	s := startStack(t)
	ctx := context.Background()
	tiny := pipeline.ModelParams{Epochs: 1, Layers: 1, Units: 8}
	var recorded []recordedRun

	// TrainingPipeline: NFLX up to 2021, the base of the retrain below (v1).
	trained := s.trainAs(t, "history-training", pipeline.TrainingInput{Ticker: "NFLX",
		CSVKey: uploadBytes(t, s.store, nflxUntil2021(t)), Model: tiny, SearchAttributes: true})
	recorded = append(recorded, recordedRun{"training", trained.WorkflowID, trained.RunID})

	// ValidateData on the same file.
	validated := s.runToEnd(t, "history-validate", pipeline.ValidateWorkflow,
		pipeline.ValidateInput{Ticker: "NFLX", CSVKey: uploadBytes(t, s.store, nflxUntil2021(t))}, nil)
	recorded = append(recorded, recordedRun{"validate", validated.GetID(), validated.GetRunID()})

	// TickerRetrainer, started here (not by the hand-off's defaults) with a
	// short idle timeout so it ends and its history is complete. Its first
	// file is empty: that retrain fails with every file rejected. The inbox
	// scan then hands it the 2022 file: a finetune to v2.
	empty := []byte{}
	tickerRun, err := s.c.SignalWithStartWorkflow(ctx, pipeline.TickerWorkflowID("NFLX"), pipeline.NewDataSignal,
		pipeline.NewData{CSVKey: uploadBytes(t, s.store, empty), SHA256: blob.ContentHash(empty), Source: "starter", Name: "empty.csv", Arrived: time.Now().UTC()},
		client.StartWorkflowOptions{ID: pipeline.TickerWorkflowID("NFLX"), TaskQueue: s.queue},
		pipeline.TickerWorkflow, pipeline.TickerInput{Ticker: "NFLX", IdleTimeout: 20 * time.Second, SearchAttributes: true})
	if err != nil {
		t.Fatal(err)
	}
	s.drop(t, "NFLX", "NFLX_2022_new.csv", nflx2022(t))
	var scanned pipeline.InboxResult
	scan := s.runToEnd(t, "history-inbox", pipeline.InboxWorkflow, pipeline.InboxInput{SearchAttributes: true}, &scanned)
	if len(scanned.HandedOff) != 1 {
		t.Fatalf("scan handed off %+v, want the one NFLX file", scanned)
	}
	recorded = append(recorded, recordedRun{"inbox", scan.GetID(), scan.GetRunID()})
	st := s.waitRetrains(t, "NFLX", 2, 10*time.Minute)
	var rejected, registered string
	for _, o := range retrains(st) {
		switch {
		case o.Error != "":
			rejected = o.WorkflowID
		case o.Version > 0:
			registered = o.WorkflowID
		}
	}
	recorded = append(recorded, recordedRun{"retraining_rejected", rejected, ""}, recordedRun{"retraining", registered, ""})
	if rejected == "" || registered == "" {
		t.Fatalf("retrain outcomes %+v: want one rejected and one registered", retrains(st))
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := s.c.GetWorkflow(wctx, tickerRun.GetID(), tickerRun.GetRunID()).Get(wctx, nil); err != nil {
		t.Fatalf("ticker workflow did not end on its idle timeout: %v", err)
	}
	recorded = append(recorded, recordedRun{"ticker", tickerRun.GetID(), tickerRun.GetRunID()})

	// TrainingPipeline with a search: the Tune child's history (v3, after
	// the retrain so the retrain's base is v1). 2017–2021 keeps the trials
	// short.
	tuned := s.trainAs(t, "history-tuned", pipeline.TrainingInput{Ticker: "NFLX",
		CSVKey: uploadBytes(t, s.store, csvRows(t, sharedtest.Path(t, "single", "NFLX.csv"), "2017-01-01", "2021-12-31")),
		Model:  tiny, Tune: pipeline.TuneSpec{Trials: 2, Concurrency: 2, Epochs: 1, Seed: 1}})
	recorded = append(recorded, recordedRun{"training_tuned", tuned.WorkflowID, tuned.RunID},
		recordedRun{"tune", tuned.WorkflowID + "-tune", ""})

	// Write only once everything ran, so a failed recording leaves the
	// checked-in histories alone.
	out := make(map[string][]byte, len(recorded))
	for _, r := range recorded {
		out[r.name] = s.historyJSON(t, r)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, r := range recorded {
		path := filepath.Join(dir, r.name+".json")
		if err := os.WriteFile(path, out[r.name], 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s (%d bytes)", path, r.id, len(out[r.name]))
	}
}

// recordedRun is one finished execution to save as <name>.json.
type recordedRun struct {
	name, id, runID string // runID "" = the latest run of id
}

// runToEnd starts workflow under id and waits for its result (into res, when
// not nil).
func (s *stack) runToEnd(t *testing.T, id, workflow string, in, res any) client.WorkflowRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, workflow, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, res); err != nil {
		t.Fatalf("%s %s failed: %v", workflow, id, err)
	}
	return run
}

// historyJSON fetches a closed execution's full history as the JSON that
// worker.WorkflowReplayer.ReplayWorkflowHistoryFromJSONFile reads.
func (s *stack) historyJSON(t *testing.T, r recordedRun) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	it := s.c.GetWorkflowHistory(ctx, r.id, r.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", r.id, err)
		}
		h.Events = append(h.Events, e)
	}
	if n := len(h.Events); n == 0 || !closedEvent(h.Events[n-1].GetEventType()) {
		t.Fatalf("history of %s (%s) is not closed: %d events", r.name, r.id, len(h.Events))
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatalf("history of %s: %v", r.id, err)
	}
	return append(b, '\n')
}

func closedEvent(e enumspb.EventType) bool {
	switch e {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		return true
	}
	return false
}
