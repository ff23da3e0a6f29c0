package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/sharedtest"
)

const (
	e2eBucket = "finsight-e2e"
	e2ePrefix = "prefix"
)

// newFakeGCSStore starts an in-process fake GCS server (the real GCS JSON
// protocol, generations and preconditions included) and returns a store on
// a bucket in it, with the server to look inside.
func newFakeGCSStore(t *testing.T) (*blob.GCS, *fakestorage.Server) {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: e2eBucket})
	client := srv.Client()
	t.Cleanup(func() { client.Close() })
	return blob.NewGCS(client, e2eBucket, e2ePrefix), srv
}

func newLocalStore(t *testing.T) *blob.Local {
	t.Helper()
	s, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storeRun is what one pipeline run on one store produced.
type storeRun struct {
	res        pipeline.TrainingResult
	weights    string   // SHA-256 of the registered weights
	prediction float64  // /predict for the last 50 Opens, served from the store
	keys       []string // every object the run left in the store
}

// TestTrainingPipelineSameOnLocalAndGCS runs TrainingPipeline on the same
// NFLX file, 2 epochs, same seed, once on a local folder and once on a fake
// GCS bucket, and asserts the same data version, model version, metrics,
// weights, prediction and set of objects.
func TestTrainingPipelineSameOnLocalAndGCS(t *testing.T) {
	srv := devserver.Start(t)
	path := sharedtest.Path(t, "single", "NFLX.csv")
	opens := readOpens(t, path)
	backends := []struct {
		name string
		open func(t *testing.T) blob.Store
	}{
		{"local", func(t *testing.T) blob.Store { return newLocalStore(t) }},
		{"gcs", func(t *testing.T) blob.Store {
			store, fake := newFakeGCSStore(t)
			t.Cleanup(func() { assertInBucket(t, fake, "registry/NFLX.json") })
			return store
		}},
	}
	runs := map[string]storeRun{}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := startStackOn(t, srv, b.open(t))
			in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: s.upload(t, path), Model: pipeline.ModelParams{Epochs: 2, Seed: 1}}
			start := time.Now()
			res := s.train(t, in)
			t.Logf("%s store: TrainingPipeline (NFLX, 2 epochs) took %v", b.name, time.Since(start).Round(10*time.Millisecond))
			waitForNotification(t, s.store, "e2e-NFLX")
			runs[b.name] = storeRun{res: res, weights: weightsSum(t, s.store, res.ModelVersion),
				prediction: predictLast50(t, s.store, opens), keys: listAll(t, s.store)}
		})
	}
	if t.Failed() {
		return
	}
	assertSameRun(t, runs["local"], runs["gcs"])
}

// assertSameRun compares two runs of the same input on different stores.
// Training is seeded and runs on the CPU in the same process, so the model
// is bit-identical: metrics are compared exactly, not within a tolerance.
func assertSameRun(t *testing.T, local, gcs storeRun) {
	t.Helper()
	l, g := local.res, gcs.res
	if l.Raw.SHA256 != g.Raw.SHA256 || l.Raw.Rows != g.Raw.Rows {
		t.Errorf("raw data: local %s (%d rows), gcs %s (%d rows)", l.Raw.SHA256, l.Raw.Rows, g.Raw.SHA256, g.Raw.Rows)
	}
	if l.ModelVersion != 1 || g.ModelVersion != 1 {
		t.Errorf("model versions: local v%d, gcs v%d; want v1 each", l.ModelVersion, g.ModelVersion)
	}
	lm, gm := l.Metrics, g.Metrics
	if lm.NaiveRMSE != gm.NaiveRMSE || lm.NaiveMAE != gm.NaiveMAE || lm.NaiveMAPE != gm.NaiveMAPE || lm.N != gm.N ||
		lm.FirstDate != gm.FirstDate || lm.LastDate != gm.LastDate {
		t.Errorf("naive metrics differ:\nlocal %+v\ngcs   %+v", lm, gm)
	}
	if lm.TestRMSE != gm.TestRMSE || lm.TestMAE != gm.TestMAE || lm.TestMAPE != gm.TestMAPE {
		t.Errorf("model metrics differ: RMSE %v / %v, MAE %v / %v, MAPE %v / %v",
			lm.TestRMSE, gm.TestRMSE, lm.TestMAE, gm.TestMAE, lm.TestMAPE, gm.TestMAPE)
	}
	if !slices.Equal(l.Curve, g.Curve) {
		t.Errorf("learning curves differ:\nlocal %+v\ngcs   %+v", l.Curve, g.Curve)
	}
	if local.weights != gcs.weights {
		t.Errorf("registered weights differ: local %s, gcs %s", local.weights, gcs.weights)
	}
	if local.prediction != gcs.prediction {
		t.Errorf("/predict: local %v, gcs %v", local.prediction, gcs.prediction)
	}
	if !slices.Equal(local.keys, gcs.keys) {
		t.Errorf("objects differ:\nlocal %q\ngcs   %q", local.keys, gcs.keys)
	}
	t.Logf("both stores: data %s, v%d, test RMSE %.6f MAE %.6f, naive RMSE %.6f MAE %.6f, weights %s, %d objects",
		l.Raw.SHA256[:12], l.ModelVersion, lm.TestRMSE, lm.TestMAE, lm.NaiveRMSE, lm.NaiveMAE, local.weights[:12], len(local.keys))
}

func weightsSum(t *testing.T, store blob.Store, version int) string {
	t.Helper()
	b, err := registry.Registry{Store: store}.ReadFile(context.Background(), "NFLX", version, registry.FileWeights)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// waitForNotification waits until the run's notification (the challenger
// or promotion one) is recorded with its step statistics: the Notification
// child runs on after the pipeline returns.
func waitForNotification(t *testing.T, store blob.Store, runID string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		keys := listAll(t, store)
		var record, stats bool
		for _, k := range keys {
			record = record || strings.HasPrefix(k, "runs/"+runID+"/notifications/")
			stats = stats || strings.HasPrefix(k, "runs/"+runID+"-notify-") && strings.Contains(k, "/stats/Notify-")
		}
		if record && stats {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notification recorded for %s within a minute: %q", runID, keys)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// listAll lists every object of store, with Temporal run ids (in
// checkpoint and notification keys) replaced by "<execution>": each run has
// its own.
func listAll(t *testing.T, store blob.Store) []string {
	t.Helper()
	keys, err := store.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	for i, k := range keys {
		keys[i] = uuid.ReplaceAllString(k, "<execution>")
	}
	return keys
}

// predictLast50 asks an API server on store for v1's next Open after the
// last 50.
func predictLast50(t *testing.T, store blob.Store, opens []float64) float64 {
	t.Helper()
	srv := api.New(store, gotch.CPU)
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	status, answer := postPredictQuery(t, hs.URL, "?version=1", opens)
	if status != http.StatusOK {
		t.Fatalf("/predict: status %d", status)
	}
	return answer.Prediction
}

// assertInBucket checks that key was written into the fake bucket under the
// store's prefix: the run really went through GCS.
func assertInBucket(t *testing.T, fake *fakestorage.Server, key string) {
	t.Helper()
	if _, err := fake.GetObject(e2eBucket, e2ePrefix+"/"+key); err != nil {
		t.Errorf("gs://%s/%s/%s: %v", e2eBucket, e2ePrefix, key, err)
	}
}
