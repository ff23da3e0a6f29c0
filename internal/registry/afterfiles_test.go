package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
)

// AfterFiles runs once the new version's files are all written and before
// the manifest lists it; a Register of the same run that was cut off there
// (a worker killed at that point) takes its own version number and files
// again instead of adding a second version.
func TestRegisterAfterFilesHookAndARetryCutOffThere(t *testing.T) {
	ctx := context.Background()
	r, store := newRegistry(t)
	register(t, r, "NFLX", "r0")
	errCut := errors.New("cut off after the files")
	var seen []int
	cut := r
	cut.AfterFiles = func(ticker string, version int) {
		seen = append(seen, version)
		for _, name := range []string{registry.FileWeights, registry.FileScaler, registry.FileConfig, registry.FileMetrics, registry.FileLineage} {
			if ok, err := store.Exists(ctx, registry.Dir(ticker, version)+"/"+name); err != nil || !ok {
				t.Errorf("AfterFiles: %s v%d has no %s yet (%v)", ticker, version, name, err)
			}
		}
		m, err := r.Manifest(ctx, ticker)
		if err != nil {
			t.Fatal(err)
		}
		if _, listed := m.Version(version); listed {
			t.Errorf("AfterFiles: the manifest already lists v%d", version)
		}
		panic(errCut) // the process ends here, as a kill would end it
	}
	func() {
		defer func() {
			if p := recover(); p != errCut {
				t.Fatalf("Register went on past AfterFiles (recovered %v)", p)
			}
		}()
		_, _ = cut.Register(ctx, "NFLX", registry.Version{RunID: "r1", Execution: "e1"}, artifact("r1"))
	}()
	if len(seen) != 1 || seen[0] != 2 {
		t.Fatalf("AfterFiles saw versions %v, want [2]", seen)
	}

	v, err := r.Register(ctx, "NFLX", registry.Version{RunID: "r1", Execution: "e1"}, artifact("r1"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Manifest(ctx, "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != 2 || len(m.Versions) != 2 {
		t.Fatalf("the retry registered v%d; manifest %+v; want v2 and two versions", v.Version, m.Versions)
	}
	keys, err := store.List(ctx, "models/NFLX/v3/")
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("the retry left files under v3: %q", keys)
	}
}
