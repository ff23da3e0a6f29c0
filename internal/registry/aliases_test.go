package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/finsight/finsight/internal/blob"
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
	if v, sel, _ := m.Serving(); v.Version != 3 || sel != "latest (no champion)" {
		t.Fatalf("serving v%d (%s) without a champion, want the latest v3", v.Version, sel)
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
	if v, sel, _ := m.Serving(); v.Version != 2 || sel != Champion {
		t.Fatalf("serving v%d (%s), want the champion v2", v.Version, sel)
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
