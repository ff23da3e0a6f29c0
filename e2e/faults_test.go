package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
)

// TestTrainingPipelineRetriesABrokenWrite breaks the second write under
// data/derived/ half-way (the split step, after its first part landed), on
// a local store and on a fake GCS bucket: the step fails, Temporal retries
// it, the pipeline completes, and the object whose write broke holds the
// whole, verified content (locally, with no temp file left behind).
func TestTrainingPipelineRetriesABrokenWrite(t *testing.T) {
	srv := devserver.Start(t)
	backends := []struct {
		name string
		open func(t *testing.T) blob.Store
	}{
		{"local", func(t *testing.T) blob.Store {
			local := newLocalStore(t)
			t.Cleanup(func() { assertNoTempFiles(t, local.Dir()) })
			return local
		}},
		{"gcs", func(t *testing.T) blob.Store {
			store, _ := newFakeGCSStore(t)
			return store
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			inner := b.open(t)
			store := blobtest.NewFaulty(inner, "data/derived/", 2)
			s := startStackOn(t, srv, store)
			res := s.train(t, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: s.upload(t, sharedtest.Path(t, "single", "NFLX.csv")),
				Model: pipeline.ModelParams{Epochs: 1, Units: 16, Layers: 1}})
			assertBrokenWriteRetried(t, store, inner, res.WorkflowID)
		})
	}
}

// assertBrokenWriteRetried checks that the wrapper broke a write, that the
// same key was then written once more, successfully (a half-written object
// left behind would have made that write fail with ErrExists), and that the
// object matches its reference in the run record and decodes whole.
func assertBrokenWriteRetried(t *testing.T, store *blobtest.Faulty, inner blob.Store, workflowID string) {
	t.Helper()
	key, broken := store.Broken()
	if !broken {
		t.Fatal("no write was broken")
	}
	if c := store.Writes(key); c.Attempts != 2 || c.Succeeded != 1 {
		t.Fatalf("writes of %s: %+v; want the broken attempt and one successful retry", key, c)
	}
	t.Logf("broke the write of %s half-way; the step was retried and wrote it whole", key)
	ctx := context.Background()
	rec, err := runs.Read(ctx, inner, workflowID)
	if err != nil {
		t.Fatal(err)
	}
	ref, ok := findRef(rec.Data, key)
	if !ok {
		t.Fatalf("%s is not among the run's data versions %+v", key, rec.Data)
	}
	b, err := blob.GetBytes(ctx, inner, key)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != ref.SHA256 {
		t.Fatalf("%s: stored content does not match its reference hash", key)
	}
	if rows := decodedRows(t, key, b); rows != ref.Rows || rows == 0 {
		t.Fatalf("%s decodes to %d rows, its reference says %d", key, rows, ref.Rows)
	}
}

// findRef looks key up among the derived data a run recorded.
func findRef(d runs.Data, key string) (blob.Ref, bool) {
	for _, refs := range [][3]blob.Ref{d.Splits, d.Cleaned, d.Windows} {
		for _, r := range refs {
			if r.Key == key {
				return r, true
			}
		}
	}
	return blob.Ref{}, false
}

// decodedRows decodes an Arrow object (bars, or windows under window/) and
// returns its row count: a truncated file does not decode.
func decodedRows(t *testing.T, key string, b []byte) int {
	t.Helper()
	if strings.HasPrefix(key, "data/derived/window/") {
		w, err := frame.ReadWindows(bytes.NewReader(b), memory.DefaultAllocator)
		if err != nil {
			t.Fatalf("decode %s: %v", key, err)
		}
		return w.Len()
	}
	bars, err := frame.ReadBars(bytes.NewReader(b), memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("decode %s: %v", key, err)
	}
	return bars.Len()
}

// assertNoTempFiles fails if the local store's folder keeps a temp file
// (the store names them .blobtmp-*). A write still in flight when the
// test ends (a notification's step statistics, written as its worker
// stops) has a few seconds to finish and remove its own.
func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	var left []string
	for range 50 {
		left = left[:0]
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".blobtmp-") {
				left = append(left, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("temp files left in the store: %q", left)
}
