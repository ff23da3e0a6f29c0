// Package e2e runs the pipelines end to end against real components: a
// Temporal dev server, a worker, the blob store, LibTorch and the Gin API.
package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/workflows"
)

// stack is a dev server, a worker on a local store, and a client.
type stack struct {
	store blob.Store
	c     client.Client
	queue string
}

func startStack(t *testing.T) *stack {
	t.Helper()
	srv := devserver.Start(t)
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return startStackOn(t, srv, store)
}

// startStackOn starts a worker on store against srv, on a task queue named
// after the test, so several (sub)tests can share one dev server.
func startStackOn(t *testing.T, srv *devserver.Server, store blob.Store, configure ...func(*activities.Activities)) *stack {
	t.Helper()
	c := srv.Client(t)
	queue := "e2e-" + t.Name()
	w := worker.New(c, queue, worker.Options{Interceptors: []interceptor.WorkerInterceptor{&activities.UsageInterceptor{Store: store}}})
	acts := activities.New(store, gotch.CPU)
	acts.Progress = c
	acts.Temporal = c
	for _, f := range configure {
		f(acts)
	}
	workflows.Register(w)
	activities.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	tw := startTrainWorker(t, c, queue, acts, worker.Options{Interceptors: []interceptor.WorkerInterceptor{&activities.UsageInterceptor{Store: store}}})
	t.Cleanup(tw.Stop)
	return &stack{store: store, c: c, queue: queue}
}

// startTrainWorker starts, beside a test's in-process worker on queue, the
// worker of its train queue (config.TrainQueue), where the pipelines send
// training, trials and evaluation: the training steps only, one at a time
// (--train-slots 1), as cmd/worker does. The caller stops it (before
// closing c).
func startTrainWorker(t *testing.T, c client.Client, queue string, acts *activities.Activities, opts worker.Options) worker.Worker {
	t.Helper()
	// Two slots, as the tests ran before the train queue: a search's two
	// trials side by side. The slot limit itself is tested on the worker
	// binary (train_slots_test.go).
	opts.MaxConcurrentActivityExecutionSize = 2
	tw := worker.New(c, config.TrainQueue(queue), opts)
	activities.RegisterTraining(tw, acts)
	if err := tw.Start(); err != nil {
		t.Fatalf("start train worker: %v", err)
	}
	return tw
}

func (s *stack) upload(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key := "uploads/e2e.csv"
	if err := blob.PutBytes(context.Background(), s.store, key, b); err != nil {
		t.Fatal(err)
	}
	return key
}

func (s *stack) train(t *testing.T, in pipeline.TrainingInput) pipeline.TrainingResult {
	t.Helper()
	return s.trainAs(t, "e2e-"+in.Ticker, in)
}

// trainAs runs TrainingPipeline under a given workflow id and waits.
func (s *stack) trainAs(t *testing.T, id string, in pipeline.TrainingInput) pipeline.TrainingResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	var res pipeline.TrainingResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("TrainingPipeline failed: %v", err)
	}
	return res
}

// readOpens parses the Open column independently of the product's parser,
// forward-filling "null" values.
func readOpens(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var opens []float64
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			v = opens[len(opens)-1]
		}
		opens = append(opens, v)
	}
	return opens
}

// predictAnswer is the part of /predict's answer the tests check.
type predictAnswer struct {
	Ticker       string  `json:"ticker"`
	ModelVersion int     `json:"model_version"`
	Selection    string  `json:"selection"`
	Reason       string  `json:"reason"`
	Prediction   float64 `json:"prediction"`
	// RegistryUnavailable: answered from the loaded model while the store is down.
	RegistryUnavailable bool `json:"registry_unavailable"`
}

// postPredict asks the API at apiURL for NFLX's next Open after the last 50
// of opens and returns the HTTP status and the decoded answer.
func postPredict(t *testing.T, apiURL string, opens []float64) (int, predictAnswer) {
	t.Helper()
	return postPredictQuery(t, apiURL, "", opens)
}

// postPredictQuery is postPredict with a query (e.g. "?version=1").
func postPredictQuery(t *testing.T, apiURL, query string, opens []float64) (int, predictAnswer) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"ticker": "NFLX", "open": opens[len(opens)-50:]})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(apiURL+"/predict"+query, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer predictAnswer
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatalf("/predict: status %d, %v", resp.StatusCode, err)
	}
	return resp.StatusCode, answer
}

func TestTrainingPipelineOnNFLX(t *testing.T) {
	s := startStack(t)
	path := sharedtest.Path(t, "single", "NFLX.csv")
	res := s.train(t, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: s.upload(t, path),
		Model: pipeline.ModelParams{Epochs: 2}, SearchAttributes: true})
	t.Logf("NFLX, 2 epochs: test RMSE %.4f MAE %.4f | naive RMSE %.4f MAE %.4f over %d days (%s..%s)",
		res.Metrics.TestRMSE, res.Metrics.TestMAE, res.Metrics.NaiveRMSE, res.Metrics.NaiveMAE, res.Metrics.N, res.Metrics.FirstDate, res.Metrics.LastDate)

	ctx := context.Background()
	latest, err := registry.Registry{Store: s.store}.Latest(ctx, "NFLX")
	if err != nil {
		t.Fatalf("no registered model: %v", err)
	}
	if latest.Version != res.ModelVersion || res.ModelVersion != 1 {
		t.Fatalf("registry latest v%d, pipeline says v%d", latest.Version, res.ModelVersion)
	}
	m := res.Metrics
	for name, v := range map[string]float64{"test_rmse": m.TestRMSE, "test_mae": m.TestMAE, "test_mape": float64(m.TestMAPE),
		"naive_rmse": m.NaiveRMSE, "naive_mae": m.NaiveMAE} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			t.Errorf("%s = %v, want finite and positive", name, v)
		}
	}
	if len(res.Curve) != 2 {
		t.Errorf("learning curve has %d epochs, want 2", len(res.Curve))
	}

	// Naive forecast computed here from the CSV: 70/10/20 split, windows of
	// 50 Opens (49 daily log-returns) inside the test split, prediction =
	// the window's last Open.
	opens := readOpens(t, path)
	n := len(opens)
	test := opens[int(float64(n)*0.7)+int(float64(n)*0.1):]
	var se, ae float64
	const first = 50
	for i := first; i < len(test); i++ {
		e := test[i] - test[i-1]
		se += e * e
		ae += math.Abs(e)
	}
	k := float64(len(test) - first)
	if m.N != len(test)-first {
		t.Fatalf("scored %d test days, want %d", m.N, len(test)-first)
	}
	if want := math.Sqrt(se / k); math.Abs(m.NaiveRMSE-want) > 1e-9 {
		t.Errorf("naive RMSE %.10f, independent computation %.10f", m.NaiveRMSE, want)
	}
	if want := ae / k; math.Abs(m.NaiveMAE-want) > 1e-9 {
		t.Errorf("naive MAE %.10f, independent computation %.10f", m.NaiveMAE, want)
	}

	srv := api.New(s.store, gotch.CPU)
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	answer := checkServing(t, s, res, hs.URL, opens)
	checkTracking(t, s, res, hs.URL)
	t.Logf("/predict for the last 50 Opens (last %.2f): %.2f", opens[n-1], answer.Prediction)
}

// checkServing: /predict never serves a model that lost to naive by
// default. With no champion it answers the naive forecast (the last Open)
// and says why; ?version=1 answers the model; a forced promotion is served
// within 2 s. It returns the model's answer.
func checkServing(t *testing.T, s *stack, res pipeline.TrainingResult, url string, opens []float64) predictAnswer {
	t.Helper()
	status, model := postPredictQuery(t, url, "?version=1", opens)
	if status != 200 || model.Ticker != "NFLX" || model.ModelVersion != 1 ||
		math.IsNaN(model.Prediction) || math.IsInf(model.Prediction, 0) || model.Prediction <= 0 {
		t.Fatalf("/predict?version=1 answered %d %+v", status, model)
	}
	status, def := postPredict(t, url, opens)
	if res.Promotion.Promoted {
		if status != 200 || def.ModelVersion != 1 || def.Prediction != model.Prediction {
			t.Fatalf("v1 is champion; /predict answered %d %+v", status, def)
		}
		t.Logf("v1 beat naive and is champion: the rest of the serving check needs a losing model")
		return model
	}
	last := opens[len(opens)-1]
	if status != 200 || def.Selection != "naive" || def.ModelVersion != 0 || def.Prediction != last ||
		!strings.Contains(def.Reason, "v1") || !strings.Contains(def.Reason, "naive") {
		t.Fatalf("no champion: /predict answered %d %+v, want the naive forecast %.4f with the reason", status, def, last)
	}
	if model.Prediction == last {
		t.Fatalf("?version=1 answered the last Open %.4f: the model did not answer", last)
	}
	why := def.Reason
	if _, err := (registry.Registry{Store: s.store}).SetAlias(context.Background(), "NFLX", registry.Champion, 1, "e2e: forced", true, ""); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	for {
		status, def = postPredict(t, url, opens)
		if status == 200 && def.ModelVersion == 1 && def.Selection == registry.Champion {
			break
		}
		if time.Since(promoted) > 2*time.Second {
			t.Fatalf("2 s after a forced promotion /predict answers %d %+v, want the champion v1", status, def)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if def.Prediction != model.Prediction {
		t.Fatalf("the champion answered %v, ?version=1 %v", def.Prediction, model.Prediction)
	}
	t.Logf("no champion: naive %.4f (%s); ?version=1 %.4f; champion served %v after a forced promotion",
		last, why, model.Prediction, time.Since(promoted).Round(time.Millisecond))
	return model
}
