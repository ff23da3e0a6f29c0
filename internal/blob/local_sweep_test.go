package blob

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stuckWriterEnv makes the test binary a process that starts a Put into
// the store at that folder and never finishes it (see TestMain).
const stuckWriterEnv = "BLOB_TEST_STUCK_WRITER_DIR"

// stuckReader gives some bytes, says so on started, then blocks until
// release is closed.
type stuckReader struct {
	sent    bool
	started chan<- struct{}
	release <-chan struct{}
}

func (r *stuckReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "partial"), nil
	}
	close(r.started)
	<-r.release
	return 0, io.EOF
}

// runStuckWriter starts a Put of "obj" that never finishes, prints
// "writing" once its temp file holds bytes, and waits to be killed.
func runStuckWriter(dir string) int {
	s, err := NewLocal(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	started := make(chan struct{})
	go func() {
		_ = s.Put(context.Background(), "obj", &stuckReader{started: started, release: make(chan struct{})})
	}()
	<-started
	fmt.Println("writing")
	select {}
}

func tempsIn(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A process killed (kill -9) in the middle of a Put leaves its temp file;
// the next NewLocal on the folder removes it.
func TestNewLocalSweepsTheTempFileOfAKilledWriter(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), stuckWriterEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "writing" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("writer said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if left := tempsIn(t, dir); len(left) != 1 {
		t.Fatalf("temp files after the kill: %q, want the killed write's one", left)
	}
	if _, err := NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	if left := tempsIn(t, dir); len(left) != 0 {
		t.Fatalf("temp files after NewLocal: %q, want none", left)
	}
}

// A live writer's temp file survives a NewLocal on its folder, and its Put
// then completes.
func TestNewLocalKeepsTheTempFileOfALiveWriter(t *testing.T) {
	dir := t.TempDir()
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.Put(context.Background(), "obj", &stuckReader{started: started, release: release}) }()
	<-started
	if _, err := NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	if left := tempsIn(t, dir); len(left) != 1 {
		t.Fatalf("temp files while the write is in flight: %q, want its one", left)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the live write failed after the sweep: %v", err)
	}
	b, err := GetBytes(context.Background(), s, "obj")
	if err != nil || string(b) != "partial" {
		t.Fatalf("obj = %q, %v", b, err)
	}
	if left := tempsIn(t, dir); len(left) != 0 {
		t.Fatalf("temp files after the write: %q", left)
	}
}
