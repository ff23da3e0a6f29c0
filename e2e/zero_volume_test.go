package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/internal/synth"
)

// zeroVolumeCSV is n trading days of prices whose volume is 0 every day,
// as index files (^VIX, ^GSPC) have: one validation warning per row.
func zeroVolumeCSV(t *testing.T, n int) []byte {
	t.Helper()
	o := synth.Defaults()
	o.Days, o.Missing, o.Start = n, 0, time.Date(1988, 1, 4, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := synth.WriteCSV(&b, o); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = lines[i][:strings.LastIndexByte(lines[i], ',')] + ",0"
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// A 9,000-row file with zero volume every day trains: its 9,000 warnings
// are counted, the first few carried, and the whole list kept in the store,
// so no payload nears Temporal's 2 MB limit.
func TestNineThousandRowZeroVolumeFileTrains(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	const rows = 9000
	key := uploadBytes(t, s.store, zeroVolumeCSV(t, rows))
	res := s.trainAs(t, "zero-volume", pipeline.TrainingInput{Ticker: "VIXLIKE", CSVKey: key,
		Model: pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 1}})
	if res.ModelVersion != 1 {
		t.Fatalf("model version %d, want 1", res.ModelVersion)
	}
	if res.Anomalies["warning"] < rows {
		t.Fatalf("%d warnings counted, want one per zero-volume row (≥ %d)", res.Anomalies["warning"], rows)
	}
	ctx := context.Background()
	rec, err := runs.Read(ctx, s.store, "zero-volume")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Anomalies) != steps.MaxListedAnomalies || rec.AnomalyCounts["warning"] != res.Anomalies["warning"] {
		t.Fatalf("record lists %d anomalies (counts %v), want the first %d and every count", len(rec.Anomalies), rec.AnomalyCounts, steps.MaxListedAnomalies)
	}
	uri := rec.Artifacts["anomalies.json"]
	if uri == "" {
		t.Fatalf("record has no anomalies.json artifact: %v", rec.Artifacts)
	}
	listKey := uri[strings.Index(uri, "data/derived/"):]
	raw, err := blob.GetBytes(ctx, s.store, listKey)
	if err != nil {
		t.Fatal(err)
	}
	var all []pipeline.Anomaly
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	if len(all) < rows {
		t.Fatalf("the stored list has %d anomalies, want ≥ %d", len(all), rows)
	}

	// The history holds no payload near the limit.
	iter := s.c.GetWorkflowHistory(ctx, "zero-volume", "", false, 0)
	biggest := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		biggest = max(biggest, len(mustJSON(t, ev)))
	}
	if biggest > 256<<10 {
		t.Fatalf("an event of the run's history is %d bytes", biggest)
	}
	t.Logf("%d rows: %d warnings, record lists %d, largest history event %d bytes", rows, res.Anomalies["warning"], len(rec.Anomalies), biggest)

	// Validation alone answers with counts and the first few too.
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx2, client.StartWorkflowOptions{ID: "zero-volume-validate", TaskQueue: s.queue}, pipeline.ValidateWorkflow,
		pipeline.ValidateInput{Ticker: "VIXLIKE", CSVKey: key})
	if err != nil {
		t.Fatal(err)
	}
	var v pipeline.ValidateResult
	if err := run.Get(ctx2, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Anomalies) != steps.MaxListedAnomalies || v.Counts["warning"] < rows || v.AnomalyList.Rows < rows {
		t.Fatalf("validation lists %d, counts %v, stored list of %d", len(v.Anomalies), v.Counts, v.AnomalyList.Rows)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
