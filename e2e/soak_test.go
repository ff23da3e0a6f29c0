//go:build soak

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/internal/steps"
)

// soakToken authorises the promoter's POST /models/NFLX/promote|rollback.
const soakToken = "soak-token-0123456789abcdef"

// soakConfig is what `make soak` passes: how long the load runs (SOAK_S,
// seconds, default 600) and where the report and the processes' logs go
// (SOAK_DIR; default a temporary folder).
type soakConfig struct {
	duration time.Duration
	warmup   time.Duration // load before the start sample: caches filled
	dir      string
}

func soakConfigFromEnv(t *testing.T) soakConfig {
	t.Helper()
	secs := 600
	if v := os.Getenv("SOAK_S"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 {
			t.Fatalf("SOAK_S=%q: want a whole number of seconds, at least 20", v)
		}
		secs = n
	}
	c := soakConfig{duration: time.Duration(secs) * time.Second, dir: os.Getenv("SOAK_DIR")}
	// 30 s of warm-up, but never more than a quarter of a short soak.
	c.warmup = min(30*time.Second, c.duration/4)
	if c.dir == "" {
		c.dir = t.TempDir()
	} else if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatalf("SOAK_DIR: %v", err)
	}
	return c
}

// soakStack is a dev server, the worker binary and the API binary, run as
// real processes on one local store.
type soakStack struct {
	*stack
	api       string // http://host:port of the API
	workerURL string // http://host:port of the worker's /metrics
}

func startSoakStack(t *testing.T, cfg soakConfig) *soakStack {
	t.Helper()
	workerBin := buildWorker(t)
	apiBin := buildSoakAPI(t)
	srv := devserver.Start(t)
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	const queue = "soak"
	apiAddr, metricsAddr := freeAddr(t), freeAddr(t)
	common := []string{"TEMPORAL_ADDRESS=" + srv.Address, "FINSIGHT_STORE=" + dir, "FINSIGHT_TASK_QUEUE=" + queue, "FINSIGHT_DEVICE=cpu"}
	startSoakProcess(t, workerBin, filepath.Join(cfg.dir, "worker.log"), append(common, "FINSIGHT_METRICS_ADDR="+metricsAddr))
	// The API logs each request at info: at warn its log keeps the 5xx
	// (logged at error) without a line per /predict.
	startSoakProcess(t, apiBin, filepath.Join(cfg.dir, "api.log"), append(common,
		"FINSIGHT_API_ADDR="+apiAddr, "FINSIGHT_API_TOKENS="+soakToken, "FINSIGHT_LOG_LEVEL=warn"))
	s := &soakStack{stack: &stack{store: store, c: srv.Client(t), queue: queue},
		api: "http://" + apiAddr, workerURL: "http://" + metricsAddr}
	waitSoakHTTP(t, s.api+"/readyz", time.Minute)
	waitSoakHTTP(t, s.workerURL+"/metrics", time.Minute)
	return s
}

func buildSoakAPI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "finsight-api")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/finsight/finsight/api/cmd/finsight-api").CombinedOutput()
	if err != nil {
		t.Fatalf("build api: %v\n%s", err, out)
	}
	return bin
}

// startSoakProcess starts bin with env added, its output in logPath; the
// test's end kills it (kill -9).
func startSoakProcess(t *testing.T, bin, logPath string, env []string) {
	t.Helper()
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = log.Close() })
}

// waitSoakHTTP polls url until it answers 200.
func waitSoakHTTP(t *testing.T, url string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not answering 200 within %v (last: %v)", url, limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// soakModel is small and quick: the soak is about serving, not accuracy.
var soakModel = pipeline.ModelParams{Layers: 1, Units: 16, Epochs: 1}

// trainBaseVersions registers v1 (forced champion) and v2 of NFLX on its
// history up to 2021, so the promoter has two versions to move between
// and the retrain has a base.
func (s *soakStack) trainBaseVersions(t *testing.T) {
	t.Helper()
	key := uploadBytes(t, s.store, nflxUntil2021(t))
	for v := 1; v <= 2; v++ {
		in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key, Model: soakModel, ForcePromote: v == 1}
		if res := s.trainAs(t, fmt.Sprintf("soak-base-%d", v), in); res.ModelVersion != v {
			t.Fatalf("base training %d registered v%d", v, res.ModelVersion)
		}
	}
}

// runOutcome is how a workflow started during the soak ended.
type runOutcome struct {
	ok     bool
	detail string
	took   time.Duration
}

// startRetrain starts a finetune of the champion on the 2022 NFLX file;
// the outcome arrives on the channel (ok: it completed and registered v3).
func (s *soakStack) startRetrain(t *testing.T, ctx context.Context) <-chan runOutcome {
	t.Helper()
	newData := nflx2022(t)
	in := pipeline.RetrainingInput{Ticker: "NFLX", Options: pipeline.RetrainOptions{Epochs: 2},
		Files: []pipeline.NewData{{CSVKey: uploadBytes(t, s.store, newData), SHA256: blob.ContentHash(newData), Name: "NFLX_2022_new.csv", Source: "soak"}}}
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "soak-retrain", TaskQueue: s.queue}, pipeline.RetrainingWorkflow, in)
	if err != nil {
		t.Fatalf("start retrain: %v", err)
	}
	out := make(chan runOutcome, 1)
	start := time.Now()
	go func() {
		var r pipeline.RetrainingResult
		err := run.Get(ctx, &r)
		o := runOutcome{took: time.Since(start)}
		switch {
		case err != nil:
			o.detail = "failed: " + err.Error()
		case r.ModelVersion != 3:
			o.detail = fmt.Sprintf("completed but registered v%d, want v3", r.ModelVersion)
		default:
			o.ok = true
			o.detail = fmt.Sprintf("completed: v3 by %s on v%d, promoted %v", r.Mode, r.Base.Version, r.Promotion.Promoted)
		}
		out <- o
	}()
	return out
}

// badCSVDay is the day whose Open the failing run's file sets to -1.
const badCSVDay = "2016-06-01"

// startFailingRun starts a training on NFLX prices with a negative Open;
// ok when it fails at validation with InvalidData naming that day.
func (s *soakStack) startFailingRun(t *testing.T, ctx context.Context) <-chan runOutcome {
	t.Helper()
	csv := fixOpen(t, string(csvRows(t, sharedtest.Path(t, "single", "NFLX.csv"), "2016-01-01", "2017-12-31")), badCSVDay, "-1")
	in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: uploadBytes(t, s.store, []byte(csv)), Model: soakModel}
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "soak-bad-csv", TaskQueue: s.queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatalf("start failing run: %v", err)
	}
	out := make(chan runOutcome, 1)
	start := time.Now()
	go func() {
		err := run.Get(ctx, nil)
		o := runOutcome{took: time.Since(start)}
		var app *temporal.ApplicationError
		switch {
		case err == nil:
			o.detail = "completed, want a validation failure"
		case !errors.As(err, &app) || app.Type() != steps.ErrInvalidData || !strings.Contains(err.Error(), badCSVDay):
			o.detail = "failed, but not as invalid data naming " + badCSVDay + ": " + err.Error()
		default:
			o.ok = true
			// The message repeats its cause's, with the cause's type.
			msg, _, _ := strings.Cut(app.Message(), " (type:")
			o.detail = "failed as expected: " + steps.ErrInvalidData + ": " + msg
		}
		out <- o
	}()
	return out
}

// TestSoak is `make soak`: /predict under load from several goroutines
// while a promoter moves the champion back and forth through the API, and
// one retrain and one failing run go through the worker. It writes a
// report (SOAK_DIR/report.txt) whose last line is ok or FAIL: what broke.
func TestSoak(t *testing.T) {
	cfg := soakConfigFromEnv(t)
	s := startSoakStack(t, cfg)
	setupStart := time.Now()
	s.trainBaseVersions(t)
	t.Logf("stack up and v1, v2 trained in %s; load for %s (warm-up %s)", time.Since(setupStart).Round(time.Second), cfg.duration, cfg.warmup)

	r := soakReport{duration: cfg.duration, conns: soakConns}
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	load := newLoadGenerator(t, s.api)
	prom := &promoter{api: s.api, token: soakToken, ticker: "NFLX", versions: [2]int{1, 2}}
	var wg sync.WaitGroup
	loadStart := time.Now()
	load.start(ctx, &wg, soakConns)
	wg.Add(1)
	go func() { defer wg.Done(); prom.run(ctx, 3*time.Second) }()
	trace := startSampler(ctx, &wg, s, load, 10*time.Second, t)

	time.Sleep(cfg.warmup)
	var startErr error
	r.start, startErr = s.sampleMin(3)
	runsCtx, cancelRuns := context.WithTimeout(context.Background(), cfg.duration+15*time.Minute)
	defer cancelRuns()
	retrain, failing := s.startRetrain(t, runsCtx), s.startFailingRun(t, runsCtx)

	// The load runs its whole duration, and on until both runs have ended.
	time.Sleep(time.Until(loadStart.Add(cfg.duration)))
	r.retrain, r.failing = <-retrain, <-failing
	stopLoad()
	wg.Wait()
	r.ran = time.Since(loadStart)
	// The load's connections stay open (idle), as they were at the start.
	var endErr error
	r.end, endErr = s.sampleMin(5)
	r.sampleErr = errors.Join(startErr, endErr)
	if r.sampleErr == nil {
		if err := errors.Join(writeMetrics(cfg.dir, "start", r.start), writeMetrics(cfg.dir, "end", r.end)); err != nil {
			t.Error(err)
		}
	}
	r.load, r.prom = load.result(), prom.result()
	r.trace, r.traceFailed = trace.all()

	text := r.String()
	if err := os.WriteFile(filepath.Join(cfg.dir, "report.txt"), []byte(text), 0o644); err != nil {
		t.Errorf("write report: %v", err)
	}
	t.Logf("report (also in %s):\n%s", filepath.Join(cfg.dir, "report.txt"), text)
	if v := r.verdict(); v != "ok" {
		t.Errorf("%s (logs: %s)", v, cfg.dir)
	}
}
