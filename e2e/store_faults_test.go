package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/notify/notifytest"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/internal/steps"
)

// TestStoreFaults runs TrainingPipeline (tiny: 5 years of NFLX, one epoch
// of an 8-unit LSTM) on stores that break in the ways a real one does, on
// one dev server:
//   - transient faults (503/429 bursts, a 412 storm on the registry
//     manifest, through the real GCS client) are retried and the run
//     completes with exactly one version;
//   - permanent ones (a full disk, a read-only mount, a truncated or
//     bit-flipped Arrow object between two steps) fail the run at once,
//     non-retryably, and the workflow's error, the run record and the
//     notification all name the object and say why; no half object is
//     left.
func TestStoreFaults(t *testing.T) {
	srv := devserver.Start(t)
	csv := csvRows(t, sharedtest.Path(t, "single", "NFLX.csv"), "2013-01-01", "2017-12-31")
	tiny := pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 1}

	t.Run("503 and 429 bursts on GCS are retried", func(t *testing.T) {
		t.Parallel()
		store, proxy := openGCSBehindProxy(t, 3*time.Second)
		// Longer than a call's 3 s: the GCS client's own retries give up,
		// the step fails with ErrUnavailable and Temporal retries it.
		proxy.Fail(blobtest.Uploads(e2ePrefix+"/data/derived/"), alternating(12)...)
		proxy.Fail(blobtest.Reads(e2ePrefix+"/data/"), alternating(6)...)
		counted := &countUnavailable{Store: store}
		s := startStackOn(t, srv, counted)
		res := s.trainAs(t, "store-faults-burst", pipeline.TrainingInput{Ticker: "NFLX", CSVKey: uploadBytes(t, store, csv), Model: tiny})
		if n := proxy.Pending(); n != 0 {
			t.Fatalf("%d injected errors were never answered: the bursts did not hit the run", n)
		}
		if counted.n.Load() == 0 {
			t.Fatal("no store call failed with ErrUnavailable: the client's own retries hid the whole burst, nothing exercised Temporal's")
		}
		assertOneVersion(t, store, res)
		assertRefsWhole(t, store, "store-faults-burst")
		t.Logf("%d error answers (503/429); %d calls failed with ErrUnavailable and were retried; v%d registered",
			len(proxy.Faulted()), counted.n.Load(), res.ModelVersion)
	})

	t.Run("a 412 storm on the registry manifest is retried", func(t *testing.T) {
		t.Parallel()
		store, proxy := openGCSBehindProxy(t, 10*time.Second)
		storm := make([]int, 12)
		for i := range storm {
			storm[i] = http.StatusPreconditionFailed
		}
		proxy.Fail(blobtest.Uploads(e2ePrefix+"/registry/NFLX.json"), storm...)
		s := startStackOn(t, srv, store)
		res := s.trainAs(t, "store-faults-412", pipeline.TrainingInput{Ticker: "NFLX", CSVKey: uploadBytes(t, store, csv), Model: tiny})
		if n := proxy.Pending(); n != 0 {
			t.Fatalf("%d of the 12 412s were never answered: the storm did not hit the registry", n)
		}
		assertOneVersion(t, store, res)
	})

	permanent := []struct {
		name, id string
		prepare  func(t *testing.T, dir string, local blob.Store) blob.Store
		kind     string
		says     string // what the message says, after the object's URI
		under    string // the prefix of the object it names
	}{
		{"a full disk fails the run, naming the object", "store-faults-enospc", fullDerived, steps.ErrStoreFull,
			": no space left on device", "data/derived/"},
		{"a read-only mount fails the run, naming the object", "store-faults-erofs", readOnlyDerived, steps.ErrStoreReadOnly,
			": read-only file system", "data/derived/"},
		{"a truncated Arrow object fails the run, naming it", "store-faults-truncated", corruptSplit(blobtest.Truncate), steps.ErrCorrupt,
			"does not match its reference", "data/derived/split/"},
		{"a bit-flipped Arrow object fails the run, naming it", "store-faults-bitflip", corruptSplit(blobtest.FlipBit), steps.ErrCorrupt,
			"does not match its reference", "data/derived/split/"},
	}
	for _, tc := range permanent {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			local, err := blob.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			store := tc.prepare(t, dir, local)
			t.Cleanup(func() { assertNoTempFiles(t, dir) }) // before an unmount: inside the mount too
			hook := notifytest.StartWebhook(t, notifySecret)
			n, err := notify.New(notify.Config{WebhookURL: hook.URL, WebhookSecret: notifySecret})
			if err != nil {
				t.Fatal(err)
			}
			s := startStackOn(t, srv, store, func(a *activities.Activities) { a.Notifier = n })
			err = runToEnd(t, s, tc.id, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: uploadBytes(t, local, csv), Model: tiny})
			uri := local.URI(tc.under)
			msg := assertFailedNaming(t, err, tc.kind, uri, tc.says)
			rec, err := runs.Read(context.Background(), local, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Status != runs.StatusFailed || !strings.Contains(rec.Error, uri) || !strings.Contains(rec.Error, tc.says) {
				t.Errorf("run record: status %s, error %q; want failed, naming %s… and saying %q", rec.Status, rec.Error, uri, tc.says)
			}
			ev := hook.WaitDeliveries(t, 1, time.Minute)[0].Payload.Event
			if ev.Kind != notify.KindFailed || ev.ErrorType != tc.kind || ev.Attempts != 1 ||
				!strings.Contains(ev.Error, uri) || !strings.Contains(ev.Error, tc.says) {
				t.Errorf("notification %+v; want a failure of type %s after one attempt, naming %s… and saying %q", ev, tc.kind, uri, tc.says)
			}
			if tc.kind != steps.ErrCorrupt {
				assertNothingDerived(t, local)
			}
			t.Logf("failed at %s after %d attempt: %s", ev.Step, ev.Attempts, msg)
		})
	}
}

// alternating is n error statuses, 503 and 429 in turn.
func alternating(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}[i%2]
	}
	return out
}

// openGCSBehindProxy starts a fake GCS server on a port and a FaultProxy
// in front of it, and opens the e2e bucket through the proxy as the worker
// opens a bucket: blob.Open with an endpoint (the real GCS client, its own
// retries, and blob's call deadlines and ErrUnavailable classification).
func openGCSBehindProxy(t *testing.T, callTimeout time.Duration) (blob.Store, *blobtest.FaultProxy) {
	t.Helper()
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Stop)
	fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: e2eBucket})
	proxy, err := blobtest.NewFaultProxy(fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	store, err := blob.Open(context.Background(), "gs://"+e2eBucket+"/"+e2ePrefix, blob.WithEndpoint(proxy.URL), blob.WithCallTimeout(callTimeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.(io.Closer).Close() })
	return store, proxy
}

// countUnavailable counts the store calls that failed with ErrUnavailable
// (the steps' retry policy then retries them).
type countUnavailable struct {
	blob.Store
	n atomic.Int64
}

func (c *countUnavailable) count(err error) error {
	if errors.Is(err, blob.ErrUnavailable) {
		c.n.Add(1)
	}
	return err
}

func (c *countUnavailable) Put(ctx context.Context, key string, r io.Reader) error {
	return c.count(c.Store.Put(ctx, key, r))
}

func (c *countUnavailable) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	return c.count(c.Store.PutIfAbsent(ctx, key, r))
}

func (c *countUnavailable) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := c.Store.Get(ctx, key)
	return rc, c.count(err)
}

// assertOneVersion: the run registered v1, and the registry holds exactly
// that one version.
func assertOneVersion(t *testing.T, store blob.Store, res pipeline.TrainingResult) {
	t.Helper()
	m, err := registry.Registry{Store: store}.Manifest(context.Background(), "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	if res.ModelVersion != 1 || len(m.Versions) != 1 || m.Versions[0].Version != 1 {
		t.Fatalf("the run registered v%d; the registry holds %+v; want exactly v1", res.ModelVersion, m.Versions)
	}
}

// assertRefsWhole: every derived object the run recorded is in the store
// whole (its hash is its reference's).
func assertRefsWhole(t *testing.T, store blob.Store, id string) {
	t.Helper()
	ctx := context.Background()
	rec, err := runs.Read(ctx, store, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, refs := range [][3]blob.Ref{rec.Data.Splits, rec.Data.Cleaned, rec.Data.Windows} {
		for _, ref := range refs {
			b, err := blob.GetBytes(ctx, store, ref.Key)
			if err != nil || blob.ContentHash(b) != ref.SHA256 {
				t.Fatalf("%s: %v, or its content does not match its reference", ref.Key, err)
			}
		}
	}
}

// assertNothingDerived: a refused write left no object (nor part of one)
// under data/derived/, the ballast of a full mount aside.
func assertNothingDerived(t *testing.T, store blob.Store) {
	t.Helper()
	keys, err := store.List(context.Background(), "data/derived/")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 && !(len(keys) == 1 && keys[0] == "data/derived/ballast") {
		t.Fatalf("after the refused write the store holds %q", keys)
	}
}

// runToEnd runs TrainingPipeline under id and returns how it ended.
func runToEnd(t *testing.T, s *stack, id string, in pipeline.TrainingInput) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	return run.Get(ctx, nil)
}

// assertFailedNaming checks that the run failed with a non-retryable
// application error of type kind whose message names an object under uri
// and says says; it returns the message.
func assertFailedNaming(t *testing.T, err error, kind, uri, says string) string {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != kind || !appErr.NonRetryable() {
		t.Fatalf("the run ended with %v; want a non-retryable %s failure", err, kind)
	}
	msg := appErr.Message()
	if !strings.Contains(msg, uri) || !strings.Contains(msg, says) {
		t.Fatalf("failure %q does not name an object under %s and say %q", msg, uri, says)
	}
	return msg
}

// fullDerived makes the store's data/derived/ folder a full tmpfs (a real
// ENOSPC from the kernel), or, where this process may not mount, injects
// the same *fs.PathError into writes there.
func fullDerived(t *testing.T, dir string, local blob.Store) blob.Store {
	t.Helper()
	unmount, err := blobtest.MountFull(filepath.Join(dir, "data", "derived"))
	if err != nil {
		t.Logf("no real full disk (%v): injecting ENOSPC", err)
		return blobtest.NewNoSpace(local, "data/derived/", 0)
	}
	t.Cleanup(func() { unmountOrFail(t, unmount) })
	return local
}

// readOnlyDerived makes the store's data/derived/ folder a read-only
// tmpfs (EROFS, which stops root too), or injects EROFS where this process
// may not mount.
func readOnlyDerived(t *testing.T, dir string, local blob.Store) blob.Store {
	t.Helper()
	derived := filepath.Join(dir, "data", "derived")
	unmount, err := blobtest.MountTmpfs(derived)
	if err != nil {
		t.Logf("no real read-only mount (%v): injecting EROFS", err)
		return blobtest.NewReadOnly(local, "data/derived/", 0)
	}
	t.Cleanup(func() { unmountOrFail(t, unmount) })
	if err := blobtest.RemountReadOnly(derived); err != nil {
		t.Fatal(err)
	}
	return local
}

func unmountOrFail(t *testing.T, unmount func() error) {
	if err := unmount(); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
}

// corruptSplit damages the first split the run writes right after its
// write: the next step (clean) reads it.
func corruptSplit(d blobtest.Damage) func(*testing.T, string, blob.Store) blob.Store {
	return func(t *testing.T, _ string, local blob.Store) blob.Store {
		return blobtest.NewCorruptAfterWrite(local, "data/derived/split/", d)
	}
}
