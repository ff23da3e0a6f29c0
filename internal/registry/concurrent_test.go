package registry_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
)

// backend names a store to run registry behaviours against.
type backend struct {
	name string
	open func(t *testing.T) blob.Store
}

// backends are a local folder and a fake GCS bucket.
func backends() []backend {
	return []backend{
		{"Local", func(t *testing.T) blob.Store {
			s, err := blob.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"GCS", func(t *testing.T) blob.Store {
			srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Stop)
			srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "finsight-test"})
			return blob.NewGCS(srv.Client(), "finsight-test", "reg")
		}},
	}
}

// TestConcurrentRegisterKeepsEveryRun registers 8 runs of one ticker at
// once: each must get its own version and the manifest must list them all,
// in version order.
func TestConcurrentRegisterKeepsEveryRun(t *testing.T) {
	for _, st := range backends() {
		t.Run(st.name, func(t *testing.T) {
			r := registry.Registry{Store: st.open(t)}
			const runs = 8
			got := make([]registry.Version, runs)
			errs := make([]error, runs)
			var wg sync.WaitGroup
			for i := range runs {
				wg.Go(func() {
					run := fmt.Sprintf("run-%d", i)
					got[i], errs[i] = r.Register(context.Background(), "NFLX", registry.Version{RunID: run}, artifact(run))
				})
			}
			wg.Wait()
			seen := map[int]string{}
			for i, v := range got {
				if errs[i] != nil {
					t.Fatalf("register run-%d: %v", i, errs[i])
				}
				if other, dup := seen[v.Version]; dup {
					t.Fatalf("v%d given to both %s and run-%d", v.Version, other, i)
				}
				seen[v.Version] = v.RunID
			}
			m, err := r.Manifest(context.Background(), "NFLX")
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Versions) != runs {
				t.Fatalf("manifest lists %d versions, want %d: %+v", len(m.Versions), runs, m.Versions)
			}
			if !sort.SliceIsSorted(m.Versions, func(a, b int) bool { return m.Versions[a].Version < m.Versions[b].Version }) {
				t.Fatalf("manifest versions not in order: %+v", m.Versions)
			}
			for _, v := range m.Versions {
				if seen[v.Version] != v.RunID {
					t.Errorf("manifest v%d is %s, Register gave it to %s", v.Version, v.RunID, seen[v.Version])
				}
				w, err := r.ReadFile(context.Background(), "NFLX", v.Version, registry.FileWeights)
				if err != nil || string(w) != "weights of "+v.RunID {
					t.Errorf("v%d weights %q, %v; want those of %s", v.Version, w, err, v.RunID)
				}
			}
			latest, err := r.Latest(context.Background(), "NFLX")
			if err != nil || latest.Version != runs {
				t.Fatalf("latest = %+v, %v; want v%d", latest, err, runs)
			}
		})
	}
}
