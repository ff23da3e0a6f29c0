// Package registry keeps the numbered model versions of each ticker in the
// blob store:
//
//	models/<ticker>/v<N>/{claim.json,weights,scaler.json,config.json,metrics.json,lineage.json}
//	registry/<ticker>.json   the manifest: every version, newest last
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
)

// ErrNoModel means a ticker has no registered version.
var ErrNoModel = errors.New("no model registered")

// Artifact file names inside models/<ticker>/v<N>/.
const (
	FileWeights = "weights"
	FileScaler  = "scaler.json"
	FileConfig  = "config.json"
	FileMetrics = "metrics.json"
	FileLineage = "lineage.json"
	fileClaim   = "claim.json"
)

// Version is one registered model.
type Version struct {
	Version int    `json:"version"`
	RunID   string `json:"run_id"`
	// Execution is the Temporal run id of the execution that registered
	// it: retries of that execution get this version back, a reset (a new
	// execution) registers a new one.
	Execution  string              `json:"execution,omitempty"`
	CreatedAt  time.Time           `json:"created_at"`
	DataSHA256 string              `json:"data_sha256"`
	Metrics    metrics.TestSummary `json:"metrics"`
}

// Manifest lists a ticker's versions, oldest first, its aliases
// (champion, challenger) and every alias move.
type Manifest struct {
	Ticker   string         `json:"ticker"`
	Versions []Version      `json:"versions"`
	Aliases  map[string]int `json:"aliases,omitempty"`
	History  []AliasMove    `json:"history,omitempty"`
}

// Latest is the newest version.
func (m Manifest) Latest() (Version, bool) {
	if len(m.Versions) == 0 {
		return Version{}, false
	}
	return m.Versions[len(m.Versions)-1], true
}

// Best is the version with the lowest test RMSE (the older one on a tie),
// among those that have test metrics.
func (m Manifest) Best() (Version, bool) {
	var best Version
	found := false
	for _, v := range m.Versions {
		if math.IsNaN(v.Metrics.TestRMSE) || (v.Metrics.N == 0 && v.Metrics.TestRMSE == 0) {
			continue // no metrics recorded
		}
		if !found || v.Metrics.TestRMSE < best.Metrics.TestRMSE {
			best, found = v, true
		}
	}
	return best, found
}

// Registry reads and writes models in a store.
type Registry struct {
	Store blob.Store
	Clock func() time.Time // time of alias moves; nil = time.Now
	// Actor is who makes the alias moves of this Registry (SetAlias,
	// SetAliasIf, Rollback), recorded as the moves' By: "" (the pipeline,
	// or unknown) records none.
	Actor string
	// AfterFiles, when set, is called by Register once a new version's
	// files are written and before the manifest lists it: where a test
	// crashes the process to prove a retry finds its own files.
	AfterFiles func(ticker string, version int)
}

func manifestKey(ticker string) string { return "registry/" + ticker + ".json" }

// Dir is the folder of one version's artifact.
func Dir(ticker string, version int) string { return fmt.Sprintf("models/%s/v%d", ticker, version) }

// Manifest reads a ticker's manifest; ErrNoModel when there is none.
func (r Registry) Manifest(ctx context.Context, ticker string) (Manifest, error) {
	var m Manifest
	err := blob.GetJSON(ctx, r.Store, manifestKey(ticker), &m)
	if errors.Is(err, blob.ErrNotFound) {
		return Manifest{Ticker: ticker}, fmt.Errorf("%s: %w", ticker, ErrNoModel)
	}
	if err != nil {
		return m, fmt.Errorf("read manifest of %s: %w", ticker, err)
	}
	return m, nil
}

// ManifestGen reads a ticker's manifest with its store generation (see
// blob.Store.GetGen); ErrNoModel when there is none.
func (r Registry) ManifestGen(ctx context.Context, ticker string) (Manifest, string, error) {
	b, gen, err := r.Store.GetGen(ctx, manifestKey(ticker))
	if errors.Is(err, blob.ErrNotFound) {
		return Manifest{Ticker: ticker}, "", fmt.Errorf("%s: %w", ticker, ErrNoModel)
	}
	if err != nil {
		return Manifest{}, "", fmt.Errorf("read manifest of %s: %w", ticker, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, "", fmt.Errorf("decode manifest of %s: %w", ticker, err)
	}
	return m, gen, nil
}

// ManifestGeneration returns the store generation of a ticker's manifest
// without reading it (blob.Store.Generation): when it is the one
// ManifestGen returned, the manifest has not changed since. ErrNoModel when
// there is none.
func (r Registry) ManifestGeneration(ctx context.Context, ticker string) (string, error) {
	gen, err := r.Store.Generation(ctx, manifestKey(ticker))
	if errors.Is(err, blob.ErrNotFound) {
		return "", fmt.Errorf("%s: %w", ticker, ErrNoModel)
	}
	if err != nil {
		return "", fmt.Errorf("check manifest of %s: %w", ticker, err)
	}
	return gen, nil
}

// Latest returns the newest version of a ticker.
func (r Registry) Latest(ctx context.Context, ticker string) (Version, error) {
	m, err := r.Manifest(ctx, ticker)
	if err != nil {
		return Version{}, err
	}
	v, ok := m.Latest()
	if !ok {
		return Version{}, fmt.Errorf("%s: %w", ticker, ErrNoModel)
	}
	return v, nil
}

// ReadFile reads one file of a version's artifact.
func (r Registry) ReadFile(ctx context.Context, ticker string, version int, name string) ([]byte, error) {
	b, err := blob.GetBytes(ctx, r.Store, Dir(ticker, version)+"/"+name)
	if err != nil {
		return nil, fmt.Errorf("read %s v%d %s: %w", ticker, version, name, err)
	}
	return b, nil
}

type claim struct {
	RunID     string `json:"run_id"`
	Execution string `json:"execution,omitempty"`
}

// Register stores files as a new version of ticker and adds it to the
// manifest. It is idempotent per run: registering the same run again returns
// the version it already has. The version number is claimed with a
// create-if-absent write, so two runs never share a number, and the manifest
// is changed with a compare-and-swap (Update), so concurrent registrations
// of one ticker all land.
func (r Registry) Register(ctx context.Context, ticker string, v Version, files map[string][]byte) (Version, error) {
	m, err := r.Manifest(ctx, ticker)
	if err != nil && !errors.Is(err, ErrNoModel) {
		return Version{}, err
	}
	if existing, ok := m.byRun(v.RunID, v.Execution); ok {
		return existing, nil
	}
	next := 1
	if last, ok := m.Latest(); ok {
		next = last.Version + 1
	}
	n, err := r.claimVersion(ctx, ticker, next, claim{RunID: v.RunID, Execution: v.Execution})
	if err != nil {
		return Version{}, err
	}
	v.Version = n
	for _, name := range []string{FileWeights, FileScaler, FileConfig, FileMetrics, FileLineage} {
		b, ok := files[name]
		if !ok {
			return Version{}, fmt.Errorf("register %s: artifact has no %s", ticker, name)
		}
		if err := r.Store.Put(ctx, Dir(ticker, n)+"/"+name, bytes.NewReader(b)); err != nil {
			return Version{}, fmt.Errorf("write %s v%d %s: %w", ticker, n, name, err)
		}
	}
	if r.AfterFiles != nil {
		r.AfterFiles(ticker, n)
	}
	var registered Version
	if _, err := r.Update(ctx, ticker, func(m *Manifest) error {
		registered = m.addVersion(v)
		return nil
	}); err != nil {
		return Version{}, err
	}
	return registered, nil
}

// claimVersion takes the first free version number from next on; a claim
// left by this same run (a retry after a crash) is taken again.
func (r Registry) claimVersion(ctx context.Context, ticker string, next int, mine claim) (int, error) {
	body, err := json.Marshal(mine)
	if err != nil {
		return 0, fmt.Errorf("claim a version of %s: %w", ticker, err)
	}
	for n := next; n < next+1000; n++ {
		key := Dir(ticker, n) + "/" + fileClaim
		err := r.Store.PutIfAbsent(ctx, key, bytes.NewReader(body))
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, blob.ErrExists) {
			return 0, fmt.Errorf("claim %s v%d: %w", ticker, n, err)
		}
		var c claim
		if err := blob.GetJSON(ctx, r.Store, key, &c); err == nil && sameRun(c.RunID, c.Execution, mine.RunID, mine.Execution) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("claim a version of %s: no free number after v%d", ticker, next)
}
