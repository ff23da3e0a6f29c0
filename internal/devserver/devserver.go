// Package devserver starts a real Temporal dev server (the Temporal CLI's
// `server start-dev`) on free local ports for integration tests.
package devserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

// Server is a running dev server.
type Server struct {
	Address string // gRPC host:port
	UIPort  int
	port    int
	dir     string // holds the SQLite file and the server log
	proc    *process
}

// process is one run of the server binary.
type process struct {
	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{}
}

// kill ends the process with SIGKILL (no shutdown, as a crash) and waits
// until it is gone.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.log.Close()
}

// Binary finds the Temporal CLI: $FINSIGHT_TEMPORAL_BIN, else .tools/bin/temporal
// under the repository root (where `make deps` builds it).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("FINSIGHT_TEMPORAL_BIN"); p != "" {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, ".tools", "bin", "temporal")
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("temporal CLI not found at %s: run `make deps` (or set FINSIGHT_TEMPORAL_BIN)", p)
			}
			return p
		}
	}
	t.Fatalf("no go.mod above %s", wd)
	return ""
}

// Start runs a dev server with its SQLite file in a temp dir and stops it
// when the test ends. Ports are picked free and then handed to the CLI, so
// another process can take one in between (parallel e2e tests do): a start
// that fails to bind is retried on new ports.
func Start(t testing.TB) *Server {
	t.Helper()
	const attempts = 4
	for i := 1; ; i++ {
		s := &Server{port: freePort(t), UIPort: freePort(t), dir: t.TempDir()}
		s.Address = fmt.Sprintf("127.0.0.1:%d", s.port)
		logText, err := s.startProcess(t)
		if err == nil {
			t.Cleanup(func() { s.proc.kill() })
			return s
		}
		if i < attempts && strings.Contains(logText, "address already in use") {
			t.Logf("temporal dev server: port taken (%v), retrying on new ports", err)
			continue
		}
		t.Fatalf("temporal dev server not healthy: %v\n%s", err, logText)
	}
}

// KillAndRestart kills the server with SIGKILL (a crash: no shutdown, the
// SQLite file as the kill left it), waits down for as long as given, and
// starts it again on the same ports and the same database, so that clients
// and workers dialled before reconnect to it. The server keeps every
// workflow it had persisted.
func (s *Server) KillAndRestart(t testing.TB, down time.Duration) {
	t.Helper()
	s.proc.kill()
	time.Sleep(down)
	// The old process's sockets are closed by the kernel with it, but a
	// port can stay briefly unbindable: retry on the same ports, since
	// moving would strand the clients.
	const attempts = 10
	for i := 1; ; i++ {
		logText, err := s.startProcess(t)
		if err == nil {
			return
		}
		if i < attempts && strings.Contains(logText, "address already in use") {
			time.Sleep(time.Second)
			continue
		}
		t.Fatalf("temporal dev server not healthy after restart: %v\n%s", err, logText)
	}
}

// startProcess starts one server process on s's ports and database and
// waits until it is healthy. On failure it stops the process and returns
// the server log (of this process) for the caller to judge.
func (s *Server) startProcess(t testing.TB) (string, error) {
	t.Helper()
	cmd := exec.Command(Binary(t), "server", "start-dev", "--ip", "127.0.0.1", "--port", fmt.Sprint(s.port),
		"--ui-port", fmt.Sprint(s.UIPort), "--db-filename", filepath.Join(s.dir, "temporal.db"), "--log-level", "error",
		"--dynamic-config-value", "history.transferProcessorMaxPollRPS=200",
		"--search-attribute", "Ticker=Keyword", "--search-attribute", "Stage=Keyword", "--search-attribute", "ModelVersion=Int")
	logPath := filepath.Join(s.dir, "server.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("start temporal dev server: %v", err)
	}
	p := &process{cmd: cmd, log: log, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	if err := s.waitHealthy(60*time.Second, p.exited); err != nil {
		p.kill()
		out, _ := os.ReadFile(logPath)
		return string(out), err
	}
	s.proc = p
	return "", nil
}

// Client dials the server.
func (s *Server) Client(t testing.TB) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: s.Address, Logger: quiet{}})
	if err != nil {
		t.Fatalf("dial %s: %v", s.Address, err)
	}
	t.Cleanup(c.Close)
	return c
}

func (s *Server) waitHealthy(limit time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("server process exited (last health check: %v)", last)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := client.DialContext(ctx, client.Options{HostPort: s.Address, Logger: quiet{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return last
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type quiet struct{}

func (quiet) Debug(string, ...interface{}) {}
func (quiet) Info(string, ...interface{})  {}
func (quiet) Warn(string, ...interface{})  {}
func (quiet) Error(string, ...interface{}) {}
