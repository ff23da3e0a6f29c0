package registry

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzManifest decodes arbitrary bytes as a manifest, as Manifest,
// ManifestGen and Update do (json.Unmarshal into a Manifest), and calls
// what readers call afterwards: Alias, Version, Latest and Best, which
// must never panic and must agree with the versions listed. A manifest
// that decodes must encode again (Update encodes it before and after its
// mutation) and take an alias move (setAlias, move) and the encoding after it.
func FuzzManifest(f *testing.F) {
	for _, s := range []string{
		`{"ticker":"NFLX","versions":[{"version":1,"run_id":"r1","created_at":"2024-01-02T03:04:05Z","data_sha256":"ab","metrics":{"test_rmse":1.5,"test_mape":null,"n":100}},` +
			`{"version":2,"run_id":"r2","execution":"e2","created_at":"2024-01-03T00:00:00Z","metrics":{"test_rmse":1.2,"n":100}}],` +
			`"aliases":{"champion":2,"challenger":1},"history":[{"at":"2024-01-03T00:00:00Z","alias":"champion","version":2,"previous":1,"reason":"better","forced":true,"rollback":false,"run_id":"r2","by":"api token ab12","compared":1}]}`,
		`{"ticker":"NFLX","versions":[]}`,
		`{"ticker":"NFLX","versions":null,"aliases":{"champion":7}}`,
		`{"versions":[{"version":-1},{"version":0,"metrics":{"test_rmse":0,"n":0}},{"version":9223372036854775807}]}`,
		`{"versions":[{"version":1,"created_at":"0000-01-01T00:00:00+23:59"}]}`,
		`{"aliases":{"":0}}`,
		`null`, `{}`, `[]`, ``, `{"ticker":1}`, `{"versions":[{"metrics":{"test_mape":"x"}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return
		}
		for _, name := range []string{Champion, Challenger, "", "nope"} {
			v, ok := m.Alias(name)
			if n, set := m.Aliases[name]; ok && (!set || v.Version != n) {
				t.Fatalf("Alias(%q) = v%d, but the alias says %d (set %v)", name, v.Version, n, set)
			}
		}
		for _, v := range m.Versions {
			got, ok := m.Version(v.Version)
			if !ok || got.Version != v.Version {
				t.Fatalf("Version(%d) = %+v, %v: listed but not found", v.Version, got, ok)
			}
		}
		latest, ok := m.Latest()
		if ok != (len(m.Versions) > 0) || ok && latest.Version != m.Versions[len(m.Versions)-1].Version {
			t.Fatalf("Latest() = v%d, %v for %d versions", latest.Version, ok, len(m.Versions))
		}
		if best, ok := m.Best(); ok && math.IsNaN(best.Metrics.TestRMSE) {
			t.Fatalf("Best() = v%d with no test RMSE", best.Version)
		}
		if _, err := encodeManifest(m); err != nil {
			t.Fatalf("a manifest that decodes does not encode, so no update can change it: %v", err)
		}
		r := Registry{Clock: func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }, Actor: "fuzz"}
		if ok && latest.Version > 0 { // versions count from 1; 0 means "no version" in moves
			if err := r.setAlias(&m, m.Ticker, Champion, latest.Version, "fuzz", false, "r"); err != nil {
				t.Fatalf("setAlias(champion, latest v%d): %v", latest.Version, err)
			}
			if v, ok := m.Alias(Champion); !ok || v.Version != latest.Version {
				t.Fatalf("champion is v%d (%v) after the move to v%d", v.Version, ok, latest.Version)
			}
		}
		if _, err := encodeManifest(m); err != nil {
			t.Fatalf("encode after an alias move: %v", err)
		}
	})
}
