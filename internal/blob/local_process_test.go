package blob

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// casChildEnv makes the test binary act as one of several processes that
// increment a shared counter in a local store (see TestMain).
const casChildEnv = "BLOB_TEST_CAS_CHILD_DIR"

const childIncrements = 25

func TestMain(m *testing.M) {
	if dir := os.Getenv(casChildEnv); dir != "" {
		os.Exit(runCASChild(dir))
	}
	if dir := os.Getenv(stuckWriterEnv); dir != "" {
		os.Exit(runStuckWriter(dir))
	}
	os.Exit(m.Run())
}

// runCASChild increments the counter in the store at dir childIncrements
// times and returns the process exit code.
func runCASChild(dir string) int {
	s, err := NewLocal(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for range childIncrements {
		if err := increment(context.Background(), s, "counter"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// TestLocalCounterAcrossProcesses: four processes (the flock lock file is
// what serializes them, not a mutex) each increment one counter 25 times.
func TestLocalCounterAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	const procs = 4
	cmds := make([]*exec.Cmd, procs)
	logs := make([]strings.Builder, procs)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
		cmds[i].Env = append(os.Environ(), casChildEnv+"="+dir)
		cmds[i].Stdout, cmds[i].Stderr = &logs[i], &logs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatalf("start child %d: %v", i, err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, logs[i].String())
		}
	}
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "counter"); got != strconv.Itoa(procs*childIncrements) {
		t.Fatalf("counter = %s after %d increments in %d processes", got, procs*childIncrements, procs)
	}
	assertNoTempFiles(t, dir)
	assertKeys(t, s, "", []string{"counter"})
}
