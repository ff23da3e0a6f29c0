package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/handoff"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/sharedtest"
)

// smallBase is a quick base model for the inbox tests.
var smallBase = pipeline.ModelParams{Layers: 1, Units: 16, Epochs: 1}

// The same file dropped twice, and again under another name, is retrained
// once; two different files dropped while a retrain runs are retrained
// together by exactly one following retrain.
func TestInboxRetrainsEachContentOnceAndCoalesces(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	s.trainBase(t, "NFLX", nflxUntil2021(t), smallBase)
	path := sharedtest.Path(t, "NFLX_2022_new.csv")
	a, b, c := csvRows(t, path, "", "2022-04-30"), csvRows(t, path, "2022-05-01", "2022-08-31"), csvRows(t, path, "2022-09-01", "")

	// A slow first retrain of A (many epochs, no early stop), handed off
	// the way the starter does, so B and C arrive while it runs.
	d := pipeline.NewData{CSVKey: uploadBytes(t, s.store, a), SHA256: blob.ContentHash(a), Source: "starter", Name: "a.csv",
		Options: pipeline.RetrainOptions{Epochs: 40, Patience: 40}}
	if _, err := handoff.ToTicker(context.Background(), s.c, handoff.Target{TaskQueue: s.queue}, "NFLX", d); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, s, d.SHA256)

	s.drop(t, "NFLX", "a-again.csv", a) // A's bytes under another name
	s.drop(t, "NFLX", "b.csv", b)
	s.drop(t, "NFLX", "c.csv", c)
	s.drop(t, "NFLX", "b-copy.csv", b)
	scanned := s.scan(t)
	if len(scanned.HandedOff) != 3 || len(scanned.Duplicates) != 1 {
		t.Fatalf("scan: %+v, want a-again, b and c handed off (a-again as content the ticker has) and one copy of b a duplicate", scanned)
	}
	st, err := s.status(t, "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	if st.Running == nil || st.Running.Files[0].SHA256 != d.SHA256 || len(st.Queue) != 2 {
		t.Fatalf("while A retrains: running %+v, queue %+v; want A running and B, C queued", st.Running, st.Queue)
	}

	s.drop(t, "NFLX", "b.csv", b) // the same name again, after it was handed on
	if again := s.scan(t); len(again.HandedOff) != 0 || len(again.Duplicates) != 1 {
		t.Fatalf("second scan of b.csv: %+v, want one duplicate", again)
	}

	st = s.waitRetrains(t, "NFLX", 2, 10*time.Minute)
	done := retrains(st)
	if len(done) != 2 {
		t.Fatalf("%d retrains, want 2: %+v", len(done), done)
	}
	if len(done[0].Files) != 1 || done[0].Files[0] != d.SHA256 {
		t.Fatalf("first retrain over %v, want A alone", done[0].Names)
	}
	if len(done[1].Files) != 2 || done[1].Files[0] != blob.ContentHash(b) || done[1].Files[1] != blob.ContentHash(c) {
		t.Fatalf("second retrain over %v, want B then C", done[1].Names)
	}
	for _, o := range done {
		if o.Error != "" {
			t.Fatalf("retrain %s failed: %s", o.WorkflowID, o.Error)
		}
	}
	dups := 0
	for _, o := range st.Done {
		if o.WorkflowID == "" && strings.HasPrefix(o.Error, "duplicate") {
			dups++
		}
	}
	if dups != 1 { // a-again reached the ticker and was dropped there
		t.Fatalf("%d duplicate drops recorded by the ticker workflow, want 1 (a-again.csv): %+v", dups, st.Done)
	}
	m, err := registry.Registry{Store: s.store}.Manifest(context.Background(), "NFLX")
	if err != nil || len(m.Versions) != 3 {
		t.Fatalf("registry has %d versions (%v), want v1 and two retrains", len(m.Versions), err)
	}
	r := s.result(t, done[1].WorkflowID)
	if len(r.Files) != 2 || !strings.HasPrefix(r.Files[0].Name, "b") || r.Files[1].Name != "c.csv" || len(r.Parents) != 3 {
		t.Fatalf("coalesced retrain files %+v parents %d, want b then c merged onto the base", r.Files, len(r.Parents))
	}
	if keys, _ := s.store.List(context.Background(), "inbox/NFLX/processed/"); len(keys) != 4 {
		t.Fatalf("processed/ holds %v, want the 4 distinct dropped files (b.csv twice is one)", keys)
	}
}

// waitRunning waits until the ticker workflow runs a retrain of sha.
func waitRunning(t *testing.T, s *stack, sha string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := s.status(t, "NFLX")
		if err == nil && st.Running != nil && st.Running.Files[0].SHA256 == sha {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the retrain did not start within 2 minutes")
}

// A file with the wrong header, one with a non-positive price and an empty
// one are moved to rejected/ with their reasons; the next good file still
// retrains.
func TestInboxRejectsBadFilesAndGoesOn(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	s.trainBase(t, "NFLX", nflxUntil2021(t), smallBase)
	good := nflx2022(t)
	lines := strings.Split(string(good), "\n")
	f := strings.Split(lines[5], ",")
	f[1] = "-3.5" // a negative Open
	lines[5] = strings.Join(f, ",")
	bad := map[string]struct {
		body   string
		reason string
	}{
		"header.csv":   {"When,Price\n2022-01-03,605.6\n", "header"},
		"negative.csv": {strings.Join(lines, "\n"), "non_positive_price"},
		"empty.csv":    {"", "empty"},
	}
	for name, f := range bad {
		s.drop(t, "NFLX", name, []byte(f.body))
	}
	if got := s.scan(t); len(got.HandedOff) != 3 {
		t.Fatalf("scan handed off %+v, want the 3 files", got)
	}
	// The first file to arrive starts a retrain at once; the other two
	// wait for it and go together.
	st := s.waitFiles(t, "NFLX", 3, 5*time.Minute)
	for _, o := range retrains(st) {
		if !strings.Contains(o.Error, "every new file was rejected") {
			t.Fatalf("retrain of bad files: %+v, want it failed with every file rejected", o)
		}
	}
	before := len(retrains(st))
	ctx := context.Background()
	for name, f := range bad {
		key := "inbox/NFLX/rejected/" + name
		if ok, _ := s.store.Exists(ctx, key); !ok {
			t.Errorf("%s is not in rejected/", name)
		}
		var why struct {
			Reason string `json:"reason"`
		}
		raw, err := blob.GetBytes(ctx, s.store, key+".reason.json")
		if err != nil || json.Unmarshal(raw, &why) != nil || !strings.Contains(strings.ToLower(why.Reason), f.reason) {
			t.Errorf("%s reason %q (%v), want it to mention %q", name, why.Reason, err, f.reason)
		}
	}
	if keys, _ := s.store.List(ctx, "inbox/NFLX/processed/"); len(keys) != 0 {
		t.Errorf("rejected files left in processed/: %v", keys)
	}
	s.drop(t, "NFLX", "good.csv", good)
	s.drop(t, "NFLX", "empty-again.csv", nil) // rejected content is never retried
	if got := s.scan(t); len(got.HandedOff) != 1 || len(got.Duplicates) != 1 {
		t.Fatalf("scan after the rejections: %+v, want good.csv handed off and the empty file a duplicate", got)
	}
	st = s.waitRetrains(t, "NFLX", before+1, 10*time.Minute)
	if o := retrains(st)[before]; o.Error != "" || o.Version != 2 {
		t.Fatalf("good file after rejections: %+v, want v2", o)
	}
}

// waitFiles waits until the ticker's finished retrains cover n files.
func (s *stack) waitFiles(t *testing.T, ticker string, n int, limit time.Duration) pipeline.TickerStatus {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		st, err := s.status(t, ticker)
		files := 0
		for _, o := range retrains(st) {
			files += len(o.Files)
		}
		if err == nil && files >= n && st.Running == nil {
			return st
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("retrains of %d files of %s not finished within %v", n, ticker, limit)
	return pipeline.TickerStatus{}
}
