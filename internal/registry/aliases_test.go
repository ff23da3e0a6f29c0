package registry

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
)

func registryWithVersions(t *testing.T, n int) Registry {
	t.Helper()
	s, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := Registry{Store: s}
	files := map[string][]byte{FileWeights: []byte("w"), FileScaler: []byte("{}"), FileConfig: []byte("{}"), FileMetrics: []byte("{}"), FileLineage: []byte("{}")}
	for i := 1; i <= n; i++ {
		if _, err := r.Register(context.Background(), "T", Version{RunID: "run-" + string(rune('0'+i))}, files); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestChampionChallengerAndRollback(t *testing.T) {
	ctx := context.Background()
	r := registryWithVersions(t, 3)
	m, _ := r.Manifest(ctx, "T")
	if v, ok := m.Alias(Champion); ok {
		t.Fatalf("champion v%d before any promotion", v.Version)
	}
	mustSet := func(alias string, v int) Manifest {
		m, err := r.SetAlias(ctx, "T", alias, v, "test", false, "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mustSet(Champion, 1)
	mustSet(Challenger, 2)
	m = mustSet(Champion, 2) // the challenger wins
	if m.Aliases[Champion] != 2 || m.Aliases[Challenger] != 0 {
		t.Fatalf("aliases %v: v2 should be champion and no longer challenger", m.Aliases)
	}
	if v, ok := m.Alias(Champion); !ok || v.Version != 2 {
		t.Fatalf("champion v%d (%v), want v2", v.Version, ok)
	}
	m, err := r.Rollback(ctx, "T", "v2 misbehaves")
	if err != nil {
		t.Fatal(err)
	}
	if m.Aliases[Champion] != 1 {
		t.Fatalf("after rollback the champion is v%d, want v1", m.Aliases[Champion])
	}
	last := m.History[len(m.History)-1]
	if last.Alias != Champion || last.Version != 1 || last.Previous != 2 || !last.Forced || !last.Rollback {
		t.Fatalf("rollback recorded as %+v", last)
	}
	if _, err := r.SetAlias(ctx, "T", Champion, 9, "x", false, ""); !errors.Is(err, ErrNoVersion) {
		t.Fatalf("alias to a missing version: %v", err)
	}
	if _, err := r.Rollback(ctx, "T", "again"); err == nil {
		t.Fatal("rolled back past the first champion")
	}
}

func TestBestIsTheLowestTestRMSE(t *testing.T) {
	m := Manifest{Versions: []Version{
		{Version: 1}, // no metrics
		{Version: 2, Metrics: metrics.TestSummary{TestRMSE: 3, N: 10}},
		{Version: 3, Metrics: metrics.TestSummary{TestRMSE: 2, N: 10}},
		{Version: 4, Metrics: metrics.TestSummary{TestRMSE: 2, N: 10}}, // a tie: the older stays
		{Version: 5, Metrics: metrics.TestSummary{TestRMSE: math.NaN(), N: 10}},
	}}
	if v, ok := m.Best(); !ok || v.Version != 3 {
		t.Fatalf("best v%d (%v), want v3", v.Version, ok)
	}
	if _, ok := (Manifest{Versions: []Version{{Version: 1}}}).Best(); ok {
		t.Fatal("a best version among versions without metrics")
	}
}

func TestManifestGenerationFollowsWrites(t *testing.T) {
	ctx := context.Background()
	r := registryWithVersions(t, 1)
	m, gen, err := r.ManifestGen(ctx, "T")
	if err != nil || len(m.Versions) != 1 || gen == "" {
		t.Fatalf("ManifestGen: %+v %q %v", m, gen, err)
	}
	if g, err := r.ManifestGeneration(ctx, "T"); err != nil || g != gen {
		t.Fatalf("ManifestGeneration %q %v, want %q", g, err, gen)
	}
	if _, err := r.SetAlias(ctx, "T", Champion, 1, "test", false, ""); err != nil {
		t.Fatal(err)
	}
	if g, err := r.ManifestGeneration(ctx, "T"); err != nil || g == gen {
		t.Fatalf("ManifestGeneration after a promotion %q %v, want a new one", g, err)
	}
	if _, err := r.ManifestGeneration(ctx, "NONE"); !errors.Is(err, ErrNoModel) {
		t.Fatalf("ManifestGeneration of an unknown ticker: %v, want ErrNoModel", err)
	}
	if _, _, err := r.ManifestGen(ctx, "NONE"); !errors.Is(err, ErrNoModel) {
		t.Fatalf("ManifestGen of an unknown ticker: %v, want ErrNoModel", err)
	}
}

func TestAliasMovesRecordTheActor(t *testing.T) {
	ctx := context.Background()
	r := registryWithVersions(t, 3)
	if _, err := r.SetAlias(ctx, "T", Champion, 1, "pipeline", false, "run-1"); err != nil {
		t.Fatal(err)
	}
	r.Actor = "api token 0123abcd"
	if _, err := r.SetAlias(ctx, "T", Challenger, 2, "try", false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAlias(ctx, "T", Champion, 2, "forced", true, ""); err != nil { // also retires the challenger
		t.Fatal(err)
	}
	r.Actor = "starter (ann@box)"
	m, err := r.Rollback(ctx, "T", "bad")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "api token 0123abcd", "api token 0123abcd", "api token 0123abcd", "starter (ann@box)"}
	if len(m.History) != len(want) {
		t.Fatalf("%d moves, want %d: %+v", len(m.History), len(want), m.History)
	}
	for i, h := range m.History {
		if h.By != want[i] {
			t.Errorf("move %d (%s v%d) by %q, want %q", i, h.Alias, h.Version, h.By, want[i])
		}
	}
	r.Actor = "x"
	if _, err := r.SetAliasIf(ctx, "T", Champion, 3, 1, "if", false, ""); err != nil {
		t.Fatal(err)
	}
	raw, err := r.Store.Get(ctx, manifestKey("T"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var doc struct {
		History []map[string]any `json:"history"`
	}
	if err := json.NewDecoder(raw).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.History[0]["by"]; ok {
		t.Errorf("a move without an actor is written with by: %v", doc.History[0])
	}
	if got := doc.History[len(doc.History)-1]["by"]; got != "x" {
		t.Errorf("SetAliasIf's move by %v, want x", got)
	}
}
