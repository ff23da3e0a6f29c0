package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/finsight/finsight/internal/registry"
)

// TestUpdateRetriesAfterAConcurrentWrite: a write that lands between
// Update's read and its write makes the first attempt fail its
// precondition; Update reads again and applies mutate to the fresh manifest,
// so both changes are kept.
func TestUpdateRetriesAfterAConcurrentWrite(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			r := registry.Registry{Store: b.open(t)}
			register(t, r, "NFLX", "r1")
			calls := 0
			m, err := r.Update(ctx, "NFLX", func(m *registry.Manifest) error {
				calls++
				if calls == 1 {
					register(t, r, "NFLX", "r2") // lands after this attempt's read
				}
				m.Versions[0].DataSHA256 = "updated"
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if calls != 2 {
				t.Fatalf("mutate ran %d times, want 2 (one precondition failure)", calls)
			}
			stored, err := r.Manifest(ctx, "NFLX")
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []registry.Manifest{m, stored} {
				if len(got.Versions) != 2 || got.Versions[1].RunID != "r2" || got.Versions[0].DataSHA256 != "updated" {
					t.Fatalf("manifest %+v: want v1 updated and r2's v2 kept", got.Versions)
				}
			}
		})
	}
}

// TestUpdateWritesNothingOnErrorOrNoChange: a failing mutate and one that
// changes nothing leave the stored manifest (and its generation) as it was,
// and a missing manifest is not created.
func TestUpdateWritesNothingOnErrorOrNoChange(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			store := b.open(t)
			r := registry.Registry{Store: store}
			register(t, r, "NFLX", "r1")
			_, before, err := store.GetGen(ctx, "registry/NFLX.json")
			if err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			if _, err := r.Update(ctx, "NFLX", func(m *registry.Manifest) error {
				m.Versions = nil
				return boom
			}); !errors.Is(err, boom) {
				t.Fatalf("err = %v, want mutate's", err)
			}
			if _, err := r.Update(ctx, "NFLX", func(*registry.Manifest) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if _, after, err := store.GetGen(ctx, "registry/NFLX.json"); err != nil || after != before {
				t.Fatalf("manifest generation %s → %s (err %v): it was rewritten", before, after, err)
			}
			if _, err := r.Update(ctx, "AAPL", func(*registry.Manifest) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if ok, err := store.Exists(ctx, "registry/AAPL.json"); err != nil || ok {
				t.Fatalf("a no-op Update created a manifest (exists %v, err %v)", ok, err)
			}
		})
	}
}
