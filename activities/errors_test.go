package activities

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
)

// TestRefusedWritesFailAtOnceNamingTheObject: a step whose write the store
// refuses for good (disk full, read-only) fails non-retryably, with the
// error type saying which, and a message naming the object's URI and the
// system's own words; nothing is left under the key. A write that breaks
// for another reason (a dropped connection) stays retryable.
func TestRefusedWritesFailAtOnceNamingTheObject(t *testing.T) {
	cases := []struct {
		name  string
		wrap  func(blob.Store) blob.Store
		kind  string // "" = retryable
		cause string
	}{
		{"disk full", func(s blob.Store) blob.Store { return blobtest.NewNoSpace(s, "data/raw/", 0) }, steps.ErrStoreFull, "disk full writing file://"},
		{"read-only", func(s blob.Store) blob.Store { return blobtest.NewReadOnly(s, "data/raw/", 0) }, steps.ErrStoreReadOnly, "read-only store writing file://"},
		{"broken connection", func(s blob.Store) blob.Store { return blobtest.NewFaulty(s, "data/raw/", 1) }, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			key := h.upload(yahooCSV(120))
			inner := h.acts.Store
			h.acts.Store = tc.wrap(inner)
			var out steps.IngestResult
			err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "T", CSVKey: key}, &out)
			if err == nil {
				t.Fatal("ingest succeeded through a failing store")
			}
			t.Log(err)
			var appErr *temporal.ApplicationError
			isApp := errors.As(err, &appErr)
			if tc.kind == "" {
				if isApp && appErr.NonRetryable() {
					t.Fatalf("a broken write failed non-retryably: %v", err)
				}
			} else {
				assertAppError(t, err, tc.kind)
				msg := appErr.Message()
				if !strings.HasPrefix(msg, tc.cause+strings.TrimPrefix(inner.URI("data/raw/T")+"/", "file://")) {
					t.Errorf("message %q does not begin %q and name the object", msg, tc.cause)
				}
				if errno := map[string]string{steps.ErrStoreFull: "no space left on device", steps.ErrStoreReadOnly: "read-only file system"}[tc.kind]; !strings.HasSuffix(msg, ": "+errno) {
					t.Errorf("message %q does not end with the cause %q", msg, errno)
				}
			}
			if keys, err := inner.List(context.Background(), "data/raw/"); err != nil || len(keys) != 0 {
				t.Fatalf("after the failed write the store holds %q (%v), want nothing", keys, err)
			}
		})
	}
}

// TestCorruptArrowObjectsFailNonRetryablyNamingTheObject: a stored Arrow
// object that was truncated or had a bit flipped after its reference was
// taken (the hash does not match), or was stored damaged (its hash matches
// but it does not decode), fails the step that reads it non-retryably,
// naming the object's URI; never a panic, never a retry.
func TestCorruptArrowObjectsFailNonRetryablyNamingTheObject(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var ing steps.IngestResult
	if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "T", CSVKey: h.upload(yahooCSV(200))}, &ing); err != nil {
		t.Fatal(err)
	}
	good, err := blob.GetBytes(ctx, h.acts.Store, ing.Raw.Key)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		damage blobtest.Damage
		// refHash: the damaged bytes' own hash (stored damaged: decoding
		// must catch it) or the good one (damaged after the write).
		ownHash bool
		want    string
	}{
		{"truncated after its write", blobtest.Truncate, false, "does not match its reference"},
		{"bit flipped after its write", blobtest.FlipBit, false, "does not match its reference"},
		{"stored truncated", blobtest.Truncate, true, "decode bars"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := blobtest.Damaged(good, tc.damage)
			key := "data/raw/T/damaged-" + strings.ReplaceAll(tc.name, " ", "-") + ".arrow"
			if err := blob.PutBytes(ctx, h.acts.Store, key, bad); err != nil {
				t.Fatal(err)
			}
			ref := blob.Ref{Key: key, SHA256: ing.Raw.SHA256, Rows: ing.Raw.Rows}
			if tc.ownHash {
				ref.SHA256 = blob.ContentHash(bad)
			}
			var out steps.Splits
			err := h.run(h.acts.Split, steps.SplitInput{Raw: ref, Fractions: prep.Fractions{Train: 0.7, Val: 0.1, Test: 0.2}}, &out)
			assertAppError(t, err, steps.ErrCorrupt)
			var appErr *temporal.ApplicationError
			errors.As(err, &appErr)
			if msg := appErr.Message(); !strings.HasPrefix(msg, "corrupt object "+h.acts.Store.URI(key)+": ") || !strings.Contains(msg, tc.want) {
				t.Errorf("message %q: want it to name %s and say %q", msg, h.acts.Store.URI(key), tc.want)
			}
		})
	}
}

// TestRefusedCheckpointEndsTrainingAtOnce: training whose checkpoint the
// disk refuses (ENOSPC) fails on its first attempt, under a retry policy
// that would retry anything retryable, with the checkpoint's URI in the
// message: the training step's own error wrapping must not turn the
// refusal back into a retryable failure.
func TestRefusedCheckpointEndsTrainingAtOnce(t *testing.T) {
	h := newHarness(t)
	_, _, _, _, win := h.prepared(yahooCSV(200), 10, priceSpec)
	full := blobtest.NewNoSpace(h.acts.Store, "runs/run-full/checkpoints/", 0)
	acts := *h.acts
	acts.Store = full
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(trainWithRetries)
	env.RegisterActivityWithOptions(acts.Train, activity.RegisterOptions{Name: "Train"})
	params := pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 2, BatchSize: 16, LearningRate: 0.01, Seed: 1}
	env.ExecuteWorkflow(trainWithRetries, steps.TrainInput{RunID: "run-full", Windows: win, Params: params})
	err := env.GetWorkflowError()
	assertAppError(t, err, steps.ErrStoreFull)
	if n := len(full.Failed()); n != 1 {
		t.Fatalf("%d checkpoint writes failed, want 1: the step was retried", n)
	}
	var appErr *temporal.ApplicationError
	errors.As(err, &appErr)
	if want := "disk full writing " + h.acts.Store.URI("runs/run-full/checkpoints/"); !strings.HasPrefix(appErr.Message(), strings.TrimSuffix(want, "/")) ||
		!strings.HasSuffix(appErr.Message(), ": no space left on device") {
		t.Fatalf("message %q: want it to begin %q and give the cause", appErr.Message(), want)
	}
}
