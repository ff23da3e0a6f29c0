package registry_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
)

func newRegistry(t *testing.T) (registry.Registry, *blob.Local) {
	t.Helper()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return registry.Registry{Store: store}, store
}

// artifact returns a complete file set whose contents name the run.
func artifact(run string) map[string][]byte {
	return map[string][]byte{
		registry.FileWeights: []byte("weights of " + run),
		registry.FileScaler:  []byte(`{"feature":"open","min":1,"max":2}`),
		registry.FileConfig:  []byte(`{"run":"` + run + `"}`),
		registry.FileMetrics: []byte(`{"test_rmse":1}`),
		registry.FileLineage: []byte(`{"run_id":"` + run + `"}`),
	}
}

func register(t *testing.T, r registry.Registry, ticker, run string) registry.Version {
	t.Helper()
	v, err := r.Register(context.Background(), ticker, registry.Version{RunID: run}, artifact(run))
	if err != nil {
		t.Fatalf("register %s run %s: %v", ticker, run, err)
	}
	return v
}

func TestRegisterNumbersVersionsAndLatestIsNewest(t *testing.T) {
	ctx := context.Background()
	r, _ := newRegistry(t)
	if v := register(t, r, "NFLX", "r1"); v.Version != 1 || v.RunID != "r1" {
		t.Fatalf("first version = %+v, want v1 of r1", v)
	}
	if v := register(t, r, "NFLX", "r2"); v.Version != 2 || v.RunID != "r2" {
		t.Fatalf("second version = %+v, want v2 of r2", v)
	}
	latest, err := r.Latest(ctx, "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	if latest.Version != 2 || latest.RunID != "r2" {
		t.Fatalf("latest = %+v, want v2 of r2", latest)
	}
	m, err := r.Manifest(ctx, "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	if m.Ticker != "NFLX" || len(m.Versions) != 2 || m.Versions[0].Version != 1 || m.Versions[1].Version != 2 {
		t.Fatalf("manifest = %+v, want NFLX with v1 then v2", m)
	}
	for version, run := range map[int]string{1: "r1", 2: "r2"} {
		for name, want := range artifact(run) {
			got, err := r.ReadFile(ctx, "NFLX", version, name)
			if err != nil {
				t.Fatalf("read v%d %s: %v", version, name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("v%d %s = %q, want %q", version, name, got, want)
			}
		}
	}
}

func TestRegisterKeepsTickersApart(t *testing.T) {
	r, _ := newRegistry(t)
	register(t, r, "NFLX", "r1")
	if v := register(t, r, "AAPL", "r2"); v.Version != 1 {
		t.Fatalf("first AAPL version = %d, want 1", v.Version)
	}
}

func TestRegisterSameRunAgainReturnsSameVersion(t *testing.T) {
	ctx := context.Background()
	r, store := newRegistry(t)
	first := register(t, r, "NFLX", "r1")
	again := register(t, r, "NFLX", "r1")
	if again.Version != first.Version {
		t.Fatalf("re-registering r1 gave v%d, first time v%d", again.Version, first.Version)
	}
	m, err := r.Manifest(ctx, "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Versions) != 1 {
		t.Fatalf("manifest has %d versions after a repeat, want 1: %+v", len(m.Versions), m.Versions)
	}
	keys, err := store.List(ctx, "models/NFLX/v2")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("a repeat wrote %v", keys)
	}
}

func TestRegisterReusesStaleClaimOfSameRun(t *testing.T) {
	ctx := context.Background()
	r, store := newRegistry(t)
	// A crash right after claiming v1: the claim exists, nothing else.
	if err := blob.PutBytes(ctx, store, "models/NFLX/v1/claim.json", []byte(`{"run_id":"r1"}`)); err != nil {
		t.Fatal(err)
	}
	if v := register(t, r, "NFLX", "r1"); v.Version != 1 {
		t.Fatalf("retry of r1 got v%d, want its claimed v1", v.Version)
	}
	latest, err := r.Latest(ctx, "NFLX")
	if err != nil || latest.Version != 1 {
		t.Fatalf("latest = %+v, %v; want v1", latest, err)
	}
}

func TestRegisterSkipsVersionClaimedByAnotherRun(t *testing.T) {
	ctx := context.Background()
	r, store := newRegistry(t)
	if err := blob.PutBytes(ctx, store, "models/NFLX/v1/claim.json", []byte(`{"run_id":"other"}`)); err != nil {
		t.Fatal(err)
	}
	if v := register(t, r, "NFLX", "r1"); v.Version != 2 {
		t.Fatalf("r1 got v%d, want v2 (v1 is claimed by another run)", v.Version)
	}
	if got, err := r.ReadFile(ctx, "NFLX", 2, registry.FileWeights); err != nil || string(got) != "weights of r1" {
		t.Fatalf("v2 weights = %q, %v", got, err)
	}
	if ok, err := store.Exists(ctx, "models/NFLX/v1/"+registry.FileWeights); err != nil || ok {
		t.Fatalf("r1 wrote into the other run's v1 (exists %v, err %v)", ok, err)
	}
}

func TestRegisterMissingFileIsAnErrorAndRetryKeepsNumber(t *testing.T) {
	ctx := context.Background()
	r, _ := newRegistry(t)
	files := artifact("r1")
	delete(files, registry.FileScaler)
	if _, err := r.Register(ctx, "NFLX", registry.Version{RunID: "r1"}, files); err == nil {
		t.Fatal("registering without a scaler: no error")
	}
	if _, err := r.Latest(ctx, "NFLX"); !errors.Is(err, registry.ErrNoModel) {
		t.Fatalf("after a failed register, Latest err = %v, want ErrNoModel", err)
	}
	// The retry with the full artifact takes the number the failed try claimed.
	if v := register(t, r, "NFLX", "r1"); v.Version != 1 {
		t.Fatalf("retry got v%d, want v1", v.Version)
	}
}

func TestUnknownTickerHasNoModel(t *testing.T) {
	ctx := context.Background()
	r, _ := newRegistry(t)
	register(t, r, "NFLX", "r1")
	if _, err := r.Manifest(ctx, "AAPL"); !errors.Is(err, registry.ErrNoModel) {
		t.Errorf("Manifest(AAPL) err = %v, want ErrNoModel", err)
	}
	if _, err := r.Latest(ctx, "AAPL"); !errors.Is(err, registry.ErrNoModel) {
		t.Errorf("Latest(AAPL) err = %v, want ErrNoModel", err)
	}
	if _, err := r.ReadFile(ctx, "AAPL", 1, registry.FileWeights); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ReadFile(AAPL v1) err = %v, want ErrNotFound", err)
	}
}

func TestDir(t *testing.T) {
	if got := registry.Dir("BRK.B", 12); got != "models/BRK.B/v12" {
		t.Fatalf("Dir = %q, want models/BRK.B/v12", got)
	}
}

func TestRegisterAfterAResetIsANewVersionAndRetriesAreNot(t *testing.T) {
	ctx := context.Background()
	r, _ := newRegistry(t)
	reg := func(execution string) int {
		t.Helper()
		v, err := r.Register(ctx, "NFLX", registry.Version{RunID: "train-nflx", Execution: execution}, artifact("train-nflx "+execution))
		if err != nil {
			t.Fatal(err)
		}
		return v.Version
	}
	first := reg("exec-1")
	if again := reg("exec-1"); again != first {
		t.Fatalf("a retry of the same execution registered v%d, first was v%d", again, first)
	}
	// temporal workflow reset: the same workflow id, a new execution that
	// trained again. Its model is a new version, not the old one returned.
	if reset := reg("exec-2"); reset == first {
		t.Fatalf("the reset execution got the pre-reset v%d back", first)
	}
	// A version registered before executions were recorded still matches its run.
	if legacy := register(t, r, "MSFT", "old-run"); reg2(t, r, "MSFT", "old-run", "exec-9") != legacy.Version {
		t.Fatal("a retry after upgrading registered the legacy run twice")
	}
}

func reg2(t *testing.T, r registry.Registry, ticker, run, execution string) int {
	t.Helper()
	v, err := r.Register(context.Background(), ticker, registry.Version{RunID: run, Execution: execution}, artifact(run))
	if err != nil {
		t.Fatal(err)
	}
	return v.Version
}
