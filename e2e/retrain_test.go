package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/report"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
)

// The reference project's retraining: NFLX trained up to 2021, then its
// 2022 file dropped into the inbox. One retrain runs (finetune), v2's
// lineage names both raw versions, its transform is v1's, and v2, v1 and
// naive are compared on the same 2022 test days; then a full retrain on
// the same data for comparison.
func TestRetrainNFLXFromTheInbox(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := context.Background()
	base := s.trainBase(t, "NFLX", nflxUntil2021(t), pipeline.ModelParams{Units: 32, Epochs: 2})
	if base.ModelVersion != 1 {
		t.Fatalf("base is v%d, want v1", base.ModelVersion)
	}
	newData := nflx2022(t)
	s.drop(t, "NFLX", "NFLX_2022_new.csv", newData)
	scanned := s.scan(t)
	if len(scanned.HandedOff) != 1 || scanned.HandedOff[0].Ticker != "NFLX" {
		t.Fatalf("scan handed off %+v, want the one NFLX file", scanned)
	}
	st := s.waitRetrains(t, "NFLX", 1, 10*time.Minute)
	o := retrains(st)[0]
	if o.Error != "" || o.Version != 2 || o.Mode != pipeline.ModeFinetune {
		t.Fatalf("retrain outcome %+v, want v2 by finetune", o)
	}
	r := s.result(t, o.WorkflowID)
	logComparison(t, "finetune", r)

	if r.Base.Version != 1 || r.Base.Raw.SHA256 != base.Raw.SHA256 {
		t.Fatalf("base %+v, want v1 on raw %s", r.Base, shortSHA(base.Raw.SHA256))
	}
	checkLineage(t, s.store, r, base.Raw)
	v1Scaler := readModelFile(t, s.store, 1, registry.FileScaler)
	if !bytes.Equal(readModelFile(t, s.store, 2, registry.FileScaler), v1Scaler) {
		t.Fatal("finetune refitted the transform: v2's scaler.json differs from v1's")
	}
	checkComparison(t, r, newData)
	checkGate(t, r)
	checkRetrainRecord(t, s.store, r)
	if keys, _ := s.store.List(ctx, "inbox/NFLX/processed/"); len(keys) != 1 {
		t.Fatalf("processed inbox files %v, want the one file", keys)
	}
	if keys, _ := s.store.List(ctx, "inbox/NFLX/NFLX_2022_new.csv"); len(keys) != 0 {
		t.Fatalf("the file is still in the inbox: %v", keys)
	}

	// Full retrain from scratch with the base's hyperparameters on the same
	// merged data, started directly (the ticker workflow would drop the
	// same content as a duplicate).
	full := s.retrainDirect(t, "retrain-full-NFLX", pipeline.RetrainingInput{Ticker: "NFLX",
		Files:   []pipeline.NewData{{CSVKey: uploadBytes(t, s.store, newData), SHA256: blob.ContentHash(newData), Name: "NFLX_2022_new.csv"}},
		Options: pipeline.RetrainOptions{Mode: pipeline.ModeFull, BaseVersion: 1}})
	logComparison(t, "full", full)
	if full.Mode != pipeline.ModeFull || full.ModelVersion != 3 {
		t.Fatalf("full retrain ran %s and registered v%d, want full and v3", full.Mode, full.ModelVersion)
	}
	if bytes.Equal(readModelFile(t, s.store, 3, registry.FileScaler), v1Scaler) {
		t.Fatal("a full retrain kept v1's transform; it must refit on the merged training split")
	}
	checkComparison(t, full, newData)
	checkGate(t, full)
}

func logComparison(t *testing.T, mode string, r pipeline.RetrainingResult) {
	t.Helper()
	c := r.Comparison
	var parts []string
	for _, s := range c.Scores {
		parts = append(parts, s.Name+" RMSE "+ftoa(s.RMSE))
	}
	t.Logf("%s (%s): %d test days %s..%s: %s; drift max JS %.4f (%s); promoted %v: %s",
		mode, r.ModeReason, c.Days, c.First, c.Last, strings.Join(parts, ", "), r.Drift.MaxJS, r.Drift.Feature, r.Promotion.Promoted, r.Promotion.Reason)
}

func ftoa(v float64) string { b, _ := json.Marshal(math.Round(v*1e4) / 1e4); return string(b) }

// checkLineage: the new version's lineage names the base's raw data and
// the new file's, and the merged raw's own metadata names both.
func checkLineage(t *testing.T, store blob.Store, r pipeline.RetrainingResult, baseRaw blob.Ref) {
	t.Helper()
	var lin struct {
		Raw     blob.Ref `json:"raw"`
		Retrain *struct {
			BaseVersion int        `json:"base_version"`
			Mode        string     `json:"mode"`
			Parents     []blob.Ref `json:"parents"`
		} `json:"retrain"`
	}
	if err := json.Unmarshal(readModelFile(t, store, r.ModelVersion, registry.FileLineage), &lin); err != nil {
		t.Fatal(err)
	}
	if lin.Retrain == nil || lin.Raw.SHA256 != r.Raw.SHA256 || len(lin.Retrain.Parents) != 2 || lin.Retrain.BaseVersion != r.Base.Version {
		t.Fatalf("lineage %+v does not name the merged raw, the base and two parents", lin)
	}
	if lin.Retrain.Parents[0].SHA256 != baseRaw.SHA256 || lin.Retrain.Parents[1].SHA256 != r.Files[0].Raw.SHA256 {
		t.Fatalf("lineage parents %+v, want base raw %s and new raw %s", lin.Retrain.Parents, shortSHA(baseRaw.SHA256), shortSHA(r.Files[0].Raw.SHA256))
	}
	if r.Raw.Rows != baseRaw.Rows+r.Files[0].NewRows || r.Files[0].NewRows != 251 {
		t.Fatalf("merged %d rows from %d base rows and %d new days, want 251 new", r.Raw.Rows, baseRaw.Rows, r.Files[0].NewRows)
	}
}

// checkComparison: the new model, the base and naive are scored on the
// same days, the newest 20% of the new data, and naive's RMSE matches an
// independent computation from the CSV.
func checkComparison(t *testing.T, r pipeline.RetrainingResult, newData []byte) {
	t.Helper()
	c := r.Comparison
	if c.Days != 50 || c.Last != "2022-12-30" || len(c.Scores) != 3 {
		t.Fatalf("comparison %+v: want 3 models on the last 50 days of 2022", c)
	}
	if c.Days != r.Metrics.N || c.First != r.Metrics.FirstDate {
		t.Fatalf("comparison days %d from %s, evaluation %d from %s: not the same days", c.Days, c.First, r.Metrics.N, r.Metrics.FirstDate)
	}
	want, n := naiveRMSE(t, newData, c.First, c.Last)
	if n != c.Days || math.Abs(c.Scores[2].RMSE-want) > 1e-6 {
		t.Fatalf("naive RMSE %.6f over %d days, independent %.6f over %d", c.Scores[2].RMSE, c.Days, want, n)
	}
	for _, s := range c.Scores {
		if !(s.RMSE > 0) || math.IsInf(s.RMSE, 0) {
			t.Fatalf("score %+v is not a positive RMSE", s)
		}
	}
	if math.Abs(c.Scores[0].RMSE-r.Metrics.TestRMSE) > 1e-9 {
		t.Fatalf("new model RMSE %.6f in the comparison, %.6f in its evaluation", c.Scores[0].RMSE, r.Metrics.TestRMSE)
	}
}

// checkGate: the promotion follows from the numbers.
func checkGate(t *testing.T, r pipeline.RetrainingResult) {
	t.Helper()
	p := r.Promotion
	if p.Days != r.Comparison.Days {
		t.Fatalf("the gate compared %d days, the comparison %d", p.Days, r.Comparison.Days)
	}
	naiveOK := p.RMSE <= p.NaiveRMSE
	want := naiveOK
	if p.PreviousVersion > 0 {
		want = naiveOK && p.RMSE < p.ChampionRMSE
	}
	if p.Promoted != want {
		t.Fatalf("promotion %+v does not follow from its numbers", p)
	}
}

// checkRetrainRecord: the run record and its summary (starter run) show the
// comparison.
func checkRetrainRecord(t *testing.T, store blob.Store, r pipeline.RetrainingResult) {
	t.Helper()
	rec, err := runs.Read(context.Background(), store, r.WorkflowID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != runs.StatusCompleted || rec.RetrainResult == nil || rec.Workflow != pipeline.RetrainingWorkflow {
		t.Fatalf("run record %s: status %s, retrain result %v", rec.ID, rec.Status, rec.RetrainResult != nil)
	}
	var b bytes.Buffer
	if err := report.Summary(&b, rec); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"retrain of v1", "mode: " + r.Mode, "v1 (base)", "naive", "v2 (new)", "registry: v2"} {
		if r.ModelVersion == 2 && !strings.Contains(b.String(), want) {
			t.Fatalf("summary lacks %q:\n%s", want, b.String())
		}
	}
	if _, ok := rec.Artifacts["report"]; !ok {
		t.Fatalf("no report artifact in %v", rec.Artifacts)
	}
}

func readModelFile(t *testing.T, store blob.Store, version int, name string) []byte {
	t.Helper()
	b, err := registry.Registry{Store: store}.ReadFile(context.Background(), "NFLX", version, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func uploadBytes(t *testing.T, store blob.Store, b []byte) string {
	t.Helper()
	key := pipeline.UploadKey(blob.ContentHash(b))
	if err := blob.PutBytes(context.Background(), store, key, b); err != nil {
		t.Fatal(err)
	}
	return key
}

// retrainDirect runs a RetrainingPipeline without the ticker workflow.
func (s *stack) retrainDirect(t *testing.T, id string, in pipeline.RetrainingInput) pipeline.RetrainingResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, pipeline.RetrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	var r pipeline.RetrainingResult
	if err := run.Get(ctx, &r); err != nil {
		t.Fatalf("RetrainingPipeline failed: %v", err)
	}
	return r
}

// A retrain of a ticker that has no model fails at once, saying to train
// first.
func TestRetrainWithoutAModelSaysTrainFirst(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	newData := nflx2022(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: s.queue}, pipeline.RetrainingWorkflow, pipeline.RetrainingInput{
		Ticker: "NFLX", Files: []pipeline.NewData{{CSVKey: uploadBytes(t, s.store, newData), SHA256: blob.ContentHash(newData), Name: "new.csv"}}})
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "train one first") || !strings.Contains(err.Error(), steps.ErrNoModel) {
		t.Fatalf("retrain without a model: %v, want a NoModel error that says to train first", err)
	}
}
