package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/runs"
)

// proc is a real binary run as a child process, which a test may kill -9
// or see die; exited is closed once it is gone.
type proc struct {
	cmd    *exec.Cmd
	log    *bytes.Buffer
	exited chan struct{}
}

// startProc starts bin with env added to the test's environment and kills
// it when the test ends.
func startProc(t *testing.T, bin string, env ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin), log: &bytes.Buffer{}, exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	// The buffer is read only after the process is gone (exited closed).
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	return p
}

// kill ends the process with SIGKILL and waits until it is gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop ends the process as a deploy does (SIGTERM: the worker finishes or
// checkpoints what runs, writes included) and waits until it is gone.
func (p *proc) stop(t *testing.T, limit time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(limit):
		t.Fatalf("the process still runs %v after SIGTERM", limit)
	}
}

// waitKilled waits until the process dies and fails unless SIGKILL ended it.
func (p *proc) waitKilled(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(limit):
		t.Fatalf("the process is still running after %v", limit)
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the process ended with %v, want killed by SIGKILL\n%s", p.cmd.ProcessState, p.log)
	}
}

// buildBinary builds a main package of the module into the test's temp dir.
func buildBinary(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if err := goBuild(bin, pkg); err != nil {
		t.Fatal(err)
	}
	return bin
}

// goBuild builds a main package of the module to bin; it uses no
// testing.T, so that a goroutine may run it.
func goBuild(bin, pkg string) error {
	out, err := exec.Command("go", "build", "-o", bin, "github.com/finsight/finsight/"+pkg).CombinedOutput()
	if err != nil {
		return fmt.Errorf("build %s: %w\n%s", pkg, err, out)
	}
	return nil
}

// buildInBackgroundTo builds pkg while the test goes on and returns a
// function that waits for the build and gives the binary's path. The
// test's end waits for the build too, before its temp dir goes.
func buildInBackgroundTo(t *testing.T, pkg string) func() (string, error) {
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	done := make(chan error, 1)
	go func() { done <- goBuild(bin, pkg) }()
	wait := sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() { _ = wait() })
	return func() (string, error) { return bin, wait() }
}

// workerEnv configures the worker binary for a dev server, a local store
// folder and a task queue, without its metrics port (parallel workers).
func workerEnv(address, dir, queue string) []string {
	return []string{"TEMPORAL_ADDRESS=" + address, "FINSIGHT_STORE=" + dir, "FINSIGHT_TASK_QUEUE=" + queue,
		"FINSIGHT_DEVICE=cpu", "FINSIGHT_METRICS_ADDR="}
}

// freeAddr is a free 127.0.0.1 port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHealthy polls url/healthz until it answers 200.
func waitHealthy(t *testing.T, url string, p *proc, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("the API exited before it was healthy\n%s", p.log)
		default:
		}
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s/healthz not 200 within %v", url, limit)
}

// assertRegistryConsistent checks a ticker's registry after crashes:
// exactly one version registered by runID, every version folder under
// models/<ticker>/ listed in the manifest and every listed version has its
// files, the aliases point at listed versions, every alias move names a
// listed version, and runID moved each alias at most once. It returns the
// manifest.
func assertRegistryConsistent(t *testing.T, store blob.Store, ticker, runID string) registry.Manifest {
	t.Helper()
	ctx := context.Background()
	m, err := registry.Registry{Store: store}.Manifest(ctx, ticker)
	if err != nil {
		t.Fatalf("manifest of %s: %v", ticker, err)
	}
	mine := 0
	listed := map[int]bool{}
	for _, v := range m.Versions {
		listed[v.Version] = true
		if v.RunID == runID {
			mine++
		}
	}
	if mine != 1 {
		t.Errorf("%d versions of %s registered by run %s, want exactly 1: %+v", mine, ticker, runID, m.Versions)
	}
	keys, err := store.List(ctx, "models/"+ticker+"/")
	if err != nil {
		t.Fatal(err)
	}
	versionDir := regexp.MustCompile(`^models/([^/]+)/v(\d+)/`)
	files := map[int]map[string]bool{}
	for _, k := range keys {
		g := versionDir.FindStringSubmatch(k)
		if g == nil {
			t.Errorf("unexpected object %s under models/%s/", k, ticker)
			continue
		}
		n, _ := strconv.Atoi(g[2])
		if files[n] == nil {
			files[n] = map[string]bool{}
		}
		files[n][strings.TrimPrefix(k, g[0])] = true
	}
	for n := range files {
		if !listed[n] {
			t.Errorf("orphan version folder %s: not in the manifest (%+v)", registry.Dir(ticker, n), m.Versions)
		}
	}
	for n := range listed {
		for _, f := range []string{registry.FileWeights, registry.FileScaler, registry.FileConfig, registry.FileMetrics, registry.FileLineage} {
			if !files[n][f] {
				t.Errorf("%s v%d is in the manifest but has no %s", ticker, n, f)
			}
		}
	}
	for alias, n := range m.Aliases {
		if !listed[n] {
			t.Errorf("alias %s points at v%d, which the manifest does not list", alias, n)
		}
	}
	moves := map[string]int{}
	for _, h := range m.History {
		if h.Version != 0 && !listed[h.Version] {
			t.Errorf("alias move %+v names a version the manifest does not list", h)
		}
		if h.RunID == runID {
			moves[h.Alias+" v"+strconv.Itoa(h.Version)]++
		}
	}
	for move, n := range moves {
		if n > 1 {
			t.Errorf("run %s recorded the move %s %d times, want once: %+v", runID, move, n, m.History)
		}
	}
	return m
}

// assertRunCompleted checks the run record of runID says completed.
func assertRunCompleted(t *testing.T, store blob.Store, runID string) {
	t.Helper()
	rec, err := runs.Read(context.Background(), store, runID)
	if err != nil {
		t.Fatalf("run record of %s: %v", runID, err)
	}
	if rec.Status != runs.StatusCompleted {
		t.Errorf("run record of %s says %q, want %q", runID, rec.Status, runs.StatusCompleted)
	}
}

// assertNoPartialObjects checks that the local store at dir holds no temp
// file and that every JSON and Arrow object in it decodes whole.
func assertNoPartialObjects(t *testing.T, store blob.Store, dir string) {
	t.Helper()
	assertNoTempFiles(t, dir)
	assertObjectsDecode(t, store)
}

// assertObjectsDecode checks that every JSON and Arrow object of the store
// decodes whole.
func assertObjectsDecode(t *testing.T, store blob.Store) {
	t.Helper()
	ctx := context.Background()
	keys, err := store.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, k := range keys {
		if !strings.HasSuffix(k, ".json") && !strings.HasSuffix(k, ".arrow") {
			continue
		}
		b, err := blob.GetBytes(ctx, store, k)
		if err != nil {
			t.Errorf("read %s: %v", k, err)
			continue
		}
		if err := decodeWhole(k, b); err != nil {
			t.Errorf("%s (%d bytes) does not decode: %v", k, len(b), err)
		}
		checked++
	}
	if checked == 0 {
		t.Errorf("no JSON or Arrow object in the store to check")
	}
}

// decodeWhole decodes a JSON document or every record of an Arrow IPC
// file: a truncated object fails.
func decodeWhole(key string, b []byte) error {
	if strings.HasSuffix(key, ".json") {
		var v any
		return json.Unmarshal(b, &v)
	}
	r, err := ipc.NewFileReader(bytes.NewReader(b), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
