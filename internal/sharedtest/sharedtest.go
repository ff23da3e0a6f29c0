// Package sharedtest finds the project's shared real-price data for tests
// and benchmarks: $FINSIGHT_DATA when set, else ../shared/data beside the
// repository root. A missing folder fails the test rather than skipping it.
// It also holds the small helpers several packages' tests share
// (SyncBuffer).
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared data folder.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FINSIGHT_DATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			data := filepath.Join(filepath.Dir(d), "shared", "data")
			if _, err := os.Stat(data); err != nil {
				t.Fatalf("shared data not found at %s (set FINSIGHT_DATA): %v", data, err)
			}
			return data
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Path joins parts under the shared data folder.
func Path(t testing.TB, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, parts...)...)
}
