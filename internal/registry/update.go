package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/finsight/finsight/internal/blob"
)

// Update changes a ticker's manifest with a compare-and-swap loop: it reads
// the manifest and its generation, applies mutate to a copy (a missing
// manifest is an empty one of the ticker), and writes the result only if
// nobody wrote the manifest in between; otherwise it reads again and
// retries, a bounded number of times, with a small jittered backoff. A
// mutate that leaves the manifest as it was writes nothing. mutate may run
// several times, so it must only change the manifest it is given; its error
// stops Update with nothing written. Update returns the manifest as stored.
func (r Registry) Update(ctx context.Context, ticker string, mutate func(*Manifest) error) (Manifest, error) {
	var out Manifest
	err := blob.ReadModifyWrite(ctx, r.Store, manifestKey(ticker), func(cur []byte, found bool) ([]byte, bool, error) {
		m := Manifest{Ticker: ticker}
		if found {
			if err := json.Unmarshal(cur, &m); err != nil {
				return nil, false, fmt.Errorf("decode manifest of %s: %w", ticker, err)
			}
		}
		before, err := encodeManifest(m)
		if err != nil {
			return nil, false, err
		}
		if err := mutate(&m); err != nil {
			return nil, false, err
		}
		after, err := encodeManifest(m)
		if err != nil {
			return nil, false, err
		}
		out = m
		return after, !bytes.Equal(before, after), nil
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("update manifest of %s: %w", ticker, err)
	}
	return out, nil
}

func encodeManifest(m Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest of %s: %w", m.Ticker, err)
	}
	return b, nil
}

// addVersion puts v into the manifest in version order (concurrent runs
// may finish out of order) and returns it; if the run is already listed it
// returns that version instead and changes nothing.
func (m *Manifest) addVersion(v Version) Version {
	if existing, ok := m.byRun(v.RunID, v.Execution); ok {
		return existing
	}
	i, _ := slices.BinarySearchFunc(m.Versions, v.Version, func(e Version, n int) int { return e.Version - n })
	m.Versions = slices.Insert(m.Versions, i, v)
	return v
}

// byRun finds the version a run (one Temporal execution of it) registered.
func (m Manifest) byRun(runID, execution string) (Version, bool) {
	for _, v := range m.Versions {
		if sameRun(v.RunID, v.Execution, runID, execution) {
			return v, true
		}
	}
	return Version{}, false
}

// sameRun: the same pipeline run and the same Temporal execution of it. A
// reset of the workflow is a new execution under the same run id: it
// registers its own version. An empty execution (versions registered
// before executions were recorded) matches any.
func sameRun(runA, execA, runB, execB string) bool {
	return runA == runB && (execA == "" || execB == "" || execA == execB)
}
