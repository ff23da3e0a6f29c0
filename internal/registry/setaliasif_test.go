package registry

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSetAliasIfMovesOnlyWhileTheChampionIsTheOneCompared(t *testing.T) {
	ctx := context.Background()
	r := registryWithVersions(t, 3)
	// No champion yet: v1 was compared with none.
	m, err := r.SetAliasIf(ctx, "T", Champion, 1, 0, "first", false, "run-1")
	if err != nil || m.Aliases[Champion] != 1 {
		t.Fatalf("first champion: %v, aliases %v", err, m.Aliases)
	}
	// v2 and v3 were both compared with v1; v3 moves first.
	if m, err = r.SetAliasIf(ctx, "T", Champion, 3, 1, "beats v1", false, "run-3"); err != nil {
		t.Fatal(err)
	}
	last := m.History[len(m.History)-1]
	if last.Version != 3 || last.Previous != 1 || last.Compared != 1 || last.RunID != "run-3" {
		t.Fatalf("move recorded as %+v", last)
	}
	before := len(m.History)
	for _, alias := range []string{Champion, Challenger} {
		_, err = r.SetAliasIf(ctx, "T", alias, 2, 1, "beats v1", false, "run-2")
		if !errors.Is(err, ErrChampionChanged) || !strings.Contains(err.Error(), "champion is v3") {
			t.Fatalf("%s move after the champion changed: %v, want ErrChampionChanged naming v3", alias, err)
		}
	}
	if m, _ = r.Manifest(ctx, "T"); m.Aliases[Champion] != 3 || m.Aliases[Challenger] != 0 || len(m.History) != before {
		t.Fatalf("a refused move wrote: aliases %v, %d moves (want %d)", m.Aliases, len(m.History), before)
	}
	// Compared again with v3: the move goes through.
	if m, err = r.SetAliasIf(ctx, "T", Challenger, 2, 3, "does not beat v3", false, "run-2"); err != nil {
		t.Fatal(err)
	}
	if last := m.History[len(m.History)-1]; m.Aliases[Challenger] != 2 || last.Compared != 3 || last.Previous != 0 {
		t.Fatalf("challenger move: aliases %v, recorded %+v", m.Aliases, last)
	}
	if _, err := r.SetAliasIf(ctx, "T", Champion, 9, 3, "x", false, ""); !errors.Is(err, ErrNoVersion) {
		t.Fatalf("alias to a missing version: %v", err)
	}
}
