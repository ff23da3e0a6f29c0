// Command benchserve measures FinSight's POST /predict against a Flask +
// PyTorch reference server (flask_ref.py: the same 2×LSTM(64) shape, one
// torch thread), for `make bench-serve`.
//
// It trains an NFLX model for one epoch on the real NFLX prices, registers
// it in a temporary local store and makes it champion (so the model
// answers, not the naive forecast), starts the API binary on that store and
// the Flask server, warms both up, and runs wrk against each: single
// windows (a real 50-Open NFLX window per request), then 64 windows per
// request. It prints a table; its last line is ratio=<ours ÷ Flask req/s>
// for single windows. Both servers are comparison points only, never part
// of the product.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

const (
	ticker   = "NFLX"
	lookback = 50
	batchN   = 64 // windows per request of the batch figure
)

type options struct {
	api, csv, python, flask, lua string
	threads, connections         int
	duration, warmup             time.Duration
	keep                         bool
}

func main() {
	var o options
	flag.StringVar(&o.api, "api", "bin/finsight-api", "the API binary (api/cmd/finsight-api)")
	flag.StringVar(&o.csv, "csv", "../shared/data/single/NFLX.csv", "NFLX price CSV: training data and the request windows")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "Python with Debian's python3-flask and python3-torch")
	flag.StringVar(&o.flask, "flask", "scripts/benchserve/flask_ref.py", "the Flask reference server")
	flag.StringVar(&o.lua, "lua", "scripts/benchserve/post.lua", "the wrk script")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads (-t)")
	flag.IntVar(&o.connections, "connections", 16, "wrk connections (-c)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "each measured wrk run (-d)")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "the warm-up wrk run against each server")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (store, logs, wrk output)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchserve:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	for _, tool := range []string{"wrk", o.python, o.api} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s: %w", tool, err)
		}
	}
	tmp, err := os.MkdirTemp("", "benchserve-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "benchserve: files in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	opens, err := readOpens(o.csv)
	if err != nil {
		return err
	}
	ctx := context.Background()
	store := filepath.Join(tmp, "store")
	if err := registerChampion(ctx, store, o.csv); err != nil {
		return err
	}
	single, batch, err := writeBodies(tmp, opens)
	if err != nil {
		return err
	}

	ourAddr, err := freeAddr()
	if err != nil {
		return err
	}
	api, err := start(filepath.Join(tmp, "api.log"), o.api, nil,
		"FINSIGHT_STORE="+store, "FINSIGHT_API_ADDR="+ourAddr, "FINSIGHT_DEVICE=cpu")
	if err != nil {
		return err
	}
	defer api.stop()
	flaskAddr, err := freeAddr()
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(flaskAddr)
	flask, err := start(filepath.Join(tmp, "flask.log"), o.python, []string{o.flask, "--host", host, "--port", port},
		"OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1")
	if err != nil {
		return err
	}
	defer flask.stop()
	ours, ref := "http://"+ourAddr+"/predict", "http://"+flaskAddr+"/predict"
	for _, s := range []struct {
		name, url string
		p         *proc
	}{{"API", "http://" + ourAddr + "/healthz", api}, {"Flask", "http://" + flaskAddr + "/healthz", flask}} {
		if err := waitReady(s.url, s.p, 60*time.Second); err != nil {
			return fmt.Errorf("%s: %w (log: %s)", s.name, err, s.p.logTail())
		}
	}
	if err := checkChampion(ours, single); err != nil {
		return err
	}
	if _, err := post(ref, single); err != nil {
		return fmt.Errorf("flask: %w", err)
	}
	batchErr := checkStatus(ours, batch) // nil once /predict takes {"windows": [...]}
	if _, err := post(ref, batch); err != nil {
		return fmt.Errorf("flask batch: %w", err)
	}

	w := wrkRunner{o: o, dir: tmp}
	for _, url := range []string{ours, ref} {
		if _, err := w.run("warmup", url, single, o.warmup); err != nil {
			return err
		}
	}
	ourRes, err := w.run("ours-single", ours, single, o.duration)
	if err != nil {
		return err
	}
	refRes, err := w.run("flask-single", ref, single, o.duration)
	if err != nil {
		return err
	}
	var ourBatch, refBatch result
	if batchErr == nil {
		if _, err := w.run("warmup", ours, batch, o.warmup); err != nil {
			return err
		}
		if ourBatch, err = w.run("ours-batch", ours, batch, o.duration); err != nil {
			return err
		}
	}
	if refBatch, err = w.run("flask-batch", ref, batch, o.duration); err != nil {
		return err
	}

	torch, _ := exec.Command(o.python, "-c", "import torch; print(torch.__version__)").Output()
	refName := "Flask + PyTorch " + strings.TrimSpace(string(torch))
	fmt.Printf("POST /predict, wrk -t%d -c%d -d%s, %d CPUs\n", o.threads, o.connections, o.duration, runtime.NumCPU())
	fmt.Printf("%-34s %10s %9s %9s %8s\n", "1 window per request", "req/s", "p50 ms", "p99 ms", "non-2xx")
	for _, r := range []struct {
		name string
		res  result
	}{{"FinSight (Go, gotch)", ourRes}, {refName, refRes}} {
		fmt.Printf("%-34s %10.0f %9.2f %9.2f %8d\n", r.name, r.res.rps, r.res.p50ms, r.res.p99ms, r.res.bad())
	}
	fmt.Printf("%-34s %10s %9s %9s %8s %11s\n", fmt.Sprintf("%d windows per request", batchN), "req/s", "p50 ms", "p99 ms", "non-2xx", "windows/s")
	if batchErr != nil {
		fmt.Printf("%-34s pending: %v\n", "FinSight (Go, gotch)", batchErr)
	} else {
		fmt.Printf("%-34s %10.0f %9.2f %9.2f %8d %11.0f\n", "FinSight (Go, gotch)", ourBatch.rps, ourBatch.p50ms, ourBatch.p99ms, ourBatch.bad(), ourBatch.rps*batchN)
	}
	fmt.Printf("%-34s %10.0f %9.2f %9.2f %8d %11.0f\n", refName, refBatch.rps, refBatch.p50ms, refBatch.p99ms, refBatch.bad(), refBatch.rps*batchN)
	if batchErr == nil {
		fmt.Printf("batch_ratio=%.2f\n", ourBatch.rps/refBatch.rps)
	}
	fmt.Printf("ratio=%.2f\n", ourRes.rps/refRes.rps)
	return nil
}

// readOpens reads the Open column of a price CSV, oldest first.
func readOpens(path string) ([]float64, error) {
	bars, err := readBars(path)
	if err != nil {
		return nil, err
	}
	if bars.Len() < lookback+batchN {
		return nil, fmt.Errorf("%s has %d rows; the benchmark needs %d", path, bars.Len(), lookback+batchN)
	}
	return bars.Open, nil
}

func readBars(path string) (*frame.Bars, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bars, err := frame.ParseCSV(f, ticker)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	bars, _, _ = prep.ForwardFill(bars, nil)
	return bars, nil
}

// registerChampion trains a 2×LSTM(64) for one epoch on NFLX's training
// windows (scaled prices, 50 days in, the next Open out), registers it as
// NFLX v1 in a local store at dir and makes it champion.
func registerChampion(ctx context.Context, dir, csvPath string) error {
	model.SetThreads(1)
	bars, err := readBars(csvPath)
	if err != nil {
		return err
	}
	trainBars, _, _, err := prep.Split(bars, prep.DefaultFractions)
	if err != nil {
		return err
	}
	spec := prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"open"}}
	t, err := prep.FitTransform(spec, trainBars, 1)
	if err != nil {
		return err
	}
	win, err := prep.MakeWindows(trainBars, t, lookback)
	if err != nil {
		return err
	}
	cfg := arch.Config{Features: win.Features, Lookback: win.Lookback, Layers: 2, Units: 64, Seed: 1}
	m, err := model.New(cfg, gotch.CPU)
	if err != nil {
		return err
	}
	defer m.Close()
	start := time.Now()
	p := model.TrainParams{Epochs: 1, BatchSize: 64, LearningRate: 1e-3}
	if _, err := m.Fit(ctx, model.Dataset{X: win.X, Y: win.Y}, model.Dataset{}, model.FitOptions{TrainParams: p}); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	fmt.Fprintf(os.Stderr, "benchserve: trained %s 2×LSTM(64) for 1 epoch on %d windows in %.1fs\n", ticker, win.Len(), time.Since(start).Seconds())
	weights, err := m.MarshalWeights()
	if err != nil {
		return err
	}
	files := map[string][]byte{registry.FileWeights: weights}
	for name, v := range map[string]any{
		registry.FileScaler:  t,
		registry.FileConfig:  model.ArtifactConfig{Model: cfg, Lookback: lookback, Horizon: 1},
		registry.FileMetrics: map[string]any{},
		registry.FileLineage: map[string]string{"run_id": "benchserve"},
	} {
		if files[name], err = json.Marshal(v); err != nil {
			return err
		}
	}
	store, err := blob.NewLocal(dir)
	if err != nil {
		return err
	}
	reg := registry.Registry{Store: store}
	v, err := reg.Register(ctx, ticker, registry.Version{RunID: "benchserve", CreatedAt: time.Now().UTC()}, files)
	if err != nil {
		return err
	}
	_, err = reg.SetAlias(ctx, ticker, registry.Champion, v.Version, "benchserve", false, "benchserve")
	return err
}

// writeBodies writes the request bodies: the last 50 Opens, and the last
// 64 windows of 50 Opens.
func writeBodies(dir string, opens []float64) (single, batch string, err error) {
	single, batch = filepath.Join(dir, "single.json"), filepath.Join(dir, "batch.json")
	n := len(opens)
	b, err := json.Marshal(map[string]any{"ticker": ticker, "open": opens[n-lookback:]})
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(single, b, 0o644); err != nil {
		return "", "", err
	}
	windows := make([][]float64, batchN)
	for i := range windows {
		end := n - batchN + 1 + i
		windows[i] = opens[end-lookback : end]
	}
	if b, err = json.Marshal(map[string]any{"ticker": ticker, "windows": windows}); err != nil {
		return "", "", err
	}
	return single, batch, os.WriteFile(batch, b, 0o644)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// proc is a server started for the benchmark.
type proc struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func start(logPath, name string, args []string, env ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// stop ends the server: SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

func waitReady(url string, p *proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return errors.New("exited before it answered")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %s", url, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func post(url, bodyFile string) ([]byte, error) {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return nil, err
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return out, fmt.Errorf("POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

func checkStatus(url, bodyFile string) error {
	_, err := post(url, bodyFile)
	return err
}

// checkChampion makes sure the registered model answers, not the naive
// forecast.
func checkChampion(url, bodyFile string) error {
	out, err := post(url, bodyFile)
	if err != nil {
		return err
	}
	var p struct {
		ModelVersion int    `json:"model_version"`
		Selection    string `json:"selection"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return fmt.Errorf("decode %s: %w", out, err)
	}
	if p.ModelVersion != 1 || p.Selection != registry.Champion {
		return fmt.Errorf("the API answered with v%d (%s), want the champion v1: %s", p.ModelVersion, p.Selection, out)
	}
	return nil
}

// result is one wrk run.
type result struct {
	rps            float64
	p50ms, p99ms   float64
	non2xx, errors int
}

// bad counts the requests that did not get a 2xx answer.
func (r result) bad() int { return r.non2xx + r.errors }

type wrkRunner struct {
	o   options
	dir string
}

var rpsLine = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)

func (w wrkRunner) run(name, url, bodyFile string, d time.Duration) (result, error) {
	cmd := exec.Command("wrk", "-t"+strconv.Itoa(w.o.threads), "-c"+strconv.Itoa(w.o.connections),
		"-d"+strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))+"s", "--latency", "-s", w.o.lua, url)
	cmd.Env = append(os.Environ(), "BENCH_BODY="+bodyFile)
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(w.dir, name+".wrk.txt"), out, 0o644)
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %w: %s", name, err, out)
	}
	var r result
	m := rpsLine.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk %s: no Requests/sec in its output:\n%s", name, out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	vals := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "bench_") {
			vals[k], _ = strconv.ParseFloat(v, 64)
		}
	}
	if _, ok := vals["bench_p99_us"]; !ok {
		return r, fmt.Errorf("wrk %s: the Lua done hook printed nothing:\n%s", name, out)
	}
	r.p50ms, r.p99ms = vals["bench_p50_us"]/1000, vals["bench_p99_us"]/1000
	r.non2xx, r.errors = int(vals["bench_non2xx"]), int(vals["bench_socket_errors"])
	return r, nil
}
