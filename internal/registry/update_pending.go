package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/finsight/finsight/internal/blob"
)

// Update applies mutate to the ticker's manifest and writes it back.
//
// TEMPORARY (used by aliases.go): a plain read → mutate → write until the
// compare-and-swap Update of the GCS/CAS work lands in registry.go; delete
// this file then.
func (r Registry) Update(ctx context.Context, ticker string, mutate func(*Manifest) error) (Manifest, error) {
	m, err := r.Manifest(ctx, ticker)
	if err != nil && !errors.Is(err, ErrNoModel) {
		return Manifest{}, err
	}
	m.Ticker = ticker
	if err := mutate(&m); err != nil {
		return Manifest{}, err
	}
	if err := blob.PutJSON(ctx, r.Store, manifestKey(ticker), m); err != nil {
		return Manifest{}, fmt.Errorf("write manifest of %s: %w", ticker, err)
	}
	return m, nil
}
