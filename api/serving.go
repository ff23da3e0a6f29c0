package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
)

// serving returns the model to answer ticker's /predict with, and as what
// (champion, or latest when there is none). The registry manifest is read
// on every call, so a promotion or rollback takes effect at once.
//
// When the store is unavailable (a remembered outage, ErrUnavailable, or no
// manifest within the lookup timeout while a model of the ticker is loaded),
// the model loaded before answers, as the registry last named it, and
// fromCache is true; without one the error is ErrUnavailable (503).
func (s *Server) serving(ctx context.Context, ticker string) (m *loadedModel, selection string, fromCache bool, err error) {
	loaded, loadedAs, haveLoaded := s.models.current(ticker)
	fallback := func(err error) (*loadedModel, string, bool, error) {
		if haveLoaded {
			return loaded, loadedAs, true, nil
		}
		return nil, "", false, err
	}
	if err := s.health.down(); err != nil {
		return fallback(err)
	}
	lookup := ctx
	if haveLoaded {
		var cancel context.CancelFunc
		lookup, cancel = context.WithTimeout(ctx, s.lookupTimeout)
		defer cancel()
	}
	manifest, err := s.reg.Manifest(lookup, ticker)
	if err != nil && ctx.Err() == nil && lookup.Err() != nil {
		err = s.timedOut("get", "registry/"+ticker+".json", err)
	}
	if errors.Is(err, blob.ErrUnavailable) {
		s.health.markDown(err)
		return fallback(err)
	}
	if err != nil {
		return nil, "", false, err
	}
	version, selection, ok := manifest.Serving()
	if !ok {
		return nil, "", false, fmt.Errorf("%s: %w", ticker, registry.ErrNoModel)
	}
	m, err = s.models.use(ctx, ticker, version.Version, selection)
	if errors.Is(err, blob.ErrUnavailable) {
		s.health.markDown(err)
		return fallback(err) // the new version cannot be read: the loaded one answers
	}
	if err != nil {
		return nil, "", false, err
	}
	return m, selection, false, nil
}
