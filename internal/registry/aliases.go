package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Aliases are movable names for versions (MLflow's alias model).
const (
	Champion   = "champion"   // what /predict serves
	Challenger = "challenger" // the newest candidate that has not (yet) replaced it
)

// ErrNoVersion means the ticker has no such version.
var ErrNoVersion = errors.New("no such model version")

// ErrChampionChanged is SetAliasIf's refusal: the champion is no longer the
// one the caller compared against (the error says which it is now). Nothing
// was written; compare with the new champion and try again.
var ErrChampionChanged = errors.New("champion changed")

// AliasMove records one change of an alias: who, when, why.
type AliasMove struct {
	At       time.Time `json:"at"`
	Alias    string    `json:"alias"`
	Version  int       `json:"version"`  // 0 = alias removed
	Previous int       `json:"previous"` // the version it pointed at before (0 = none)
	Reason   string    `json:"reason"`
	Forced   bool      `json:"forced,omitempty"`
	Rollback bool      `json:"rollback,omitempty"`
	RunID    string    `json:"run_id,omitempty"`
	// By is who moved it when not a pipeline run: "api token <sha-256
	// prefix>", "starter (<user>@<host>)" (Registry.Actor); empty for the
	// pipeline's own moves (RunID says which run) and in manifests written
	// before it was recorded.
	By string `json:"by,omitempty"`
	// Compared is the champion the version was judged against when the
	// move was conditional on it (SetAliasIf); 0 = none or not recorded.
	Compared int `json:"compared,omitempty"`
}

// Alias returns the version an alias points at.
func (m Manifest) Alias(name string) (Version, bool) {
	n, ok := m.Aliases[name]
	if !ok {
		return Version{}, false
	}
	return m.Version(n)
}

// Version returns version n.
func (m Manifest) Version(n int) (Version, bool) {
	for _, v := range m.Versions {
		if v.Version == n {
			return v, true
		}
	}
	return Version{}, false
}

// move points alias at version (0 removes it) and records why, and who
// (by, "" when not known).
func (m *Manifest) move(alias string, version int, at time.Time, reason string, forced bool, runID, by string) {
	if m.Aliases == nil {
		m.Aliases = map[string]int{}
	}
	prev := m.Aliases[alias]
	if version == 0 {
		delete(m.Aliases, alias)
	} else {
		m.Aliases[alias] = version
	}
	m.History = append(m.History, AliasMove{At: at, Alias: alias, Version: version, Previous: prev, Reason: reason, Forced: forced, RunID: runID, By: by})
}

// SetAlias points alias at version, recording the reason.
func (r Registry) SetAlias(ctx context.Context, ticker, alias string, version int, reason string, forced bool, runID string) (Manifest, error) {
	return r.Update(ctx, ticker, func(m *Manifest) error {
		return r.setAlias(m, ticker, alias, version, reason, forced, runID)
	})
}

// SetAliasIf is SetAlias on the condition that the champion is still
// expectChampion (0 = no champion), the one the caller compared version
// against: the check and the move are one compare-and-swap of the
// manifest. Otherwise it writes nothing and returns ErrChampionChanged
// (wrapped, naming the champion now). The move records expectChampion as
// Compared.
func (r Registry) SetAliasIf(ctx context.Context, ticker, alias string, version, expectChampion int, reason string, forced bool, runID string) (Manifest, error) {
	return r.Update(ctx, ticker, func(m *Manifest) error {
		if cur := m.Aliases[Champion]; cur != expectChampion {
			return fmt.Errorf("%s: champion is v%d, not v%d as compared: %w", ticker, cur, expectChampion, ErrChampionChanged)
		}
		n := len(m.History)
		if err := r.setAlias(m, ticker, alias, version, reason, forced, runID); err != nil {
			return err
		}
		if len(m.History) > n {
			m.History[len(m.History)-1].Compared = expectChampion
		}
		return nil
	})
}

// setAlias is the move of SetAlias on a manifest being updated.
func (r Registry) setAlias(m *Manifest, ticker, alias string, version int, reason string, forced bool, runID string) error {
	if _, ok := m.Version(version); !ok {
		return fmt.Errorf("%s v%d: %w", ticker, version, ErrNoVersion)
	}
	if m.Aliases[alias] == version {
		return nil
	}
	if alias == Champion {
		if cur := m.Aliases[Champion]; cur != 0 && m.Aliases[Challenger] == version {
			// The challenger wins: it stops being the challenger.
			m.move(Challenger, 0, r.now(), "promoted to champion", forced, runID, r.Actor)
		}
	}
	m.move(alias, version, r.now(), reason, forced, runID, r.Actor)
	return nil
}

// Rollback makes the champion before the current one champion again.
func (r Registry) Rollback(ctx context.Context, ticker, reason string) (Manifest, error) {
	return r.Update(ctx, ticker, func(m *Manifest) error {
		cur := m.Aliases[Champion]
		if cur == 0 {
			return fmt.Errorf("%s has no champion to roll back", ticker)
		}
		// The move that made cur champion (rollbacks aside) says what came before.
		for i := len(m.History) - 1; i >= 0; i-- {
			h := m.History[i]
			if h.Alias != Champion || h.Version != cur || h.Rollback {
				continue
			}
			if h.Previous == 0 {
				break
			}
			m.move(Champion, h.Previous, r.now(), "rollback from v"+fmt.Sprint(cur)+": "+reason, true, "", r.Actor)
			m.History[len(m.History)-1].Rollback = true
			return nil
		}
		return fmt.Errorf("%s v%d has no previous champion to roll back to", ticker, cur)
	})
}

func (r Registry) now() time.Time {
	if r.Clock != nil {
		return r.Clock().UTC()
	}
	return time.Now().UTC()
}

// Tickers lists the tickers that have a manifest, sorted.
func (r Registry) Tickers(ctx context.Context) ([]string, error) {
	keys, err := r.Store.List(ctx, "registry/")
	if err != nil {
		return nil, fmt.Errorf("list registry: %w", err)
	}
	var out []string
	for _, k := range keys {
		name := strings.TrimPrefix(k, "registry/")
		if strings.HasSuffix(name, ".json") && !strings.Contains(name, "/") {
			out = append(out, strings.TrimSuffix(name, ".json"))
		}
	}
	return out, nil
}
