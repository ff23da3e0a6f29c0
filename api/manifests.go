package api

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
)

// DefaultManifestRefresh is how often, at most, /predict checks whether a
// ticker's registry manifest changed.
const DefaultManifestRefresh = time.Second

// WithManifestRefresh sets how often, at most, /predict checks the store
// for a change of a ticker's registry manifest (default
// DefaultManifestRefresh). A request that finds the ticker's manifest
// checked longer ago than d starts one check in the background and
// answers from memory meanwhile, as every other request does; one that
// finds it checked longer ago than 1.5 d (no requests for a while) checks
// before it answers. The check asks the store for the manifest's
// generation (metadata only) and reads the manifest only when it changed.
// So a promotion or rollback is served within 1.5 d, plus the check.
// d == 0 makes every request check before it answers (one metadata call
// per request; a request that comes while another's check is in flight
// answers from memory); d < 0 is ignored.
func WithManifestRefresh(d time.Duration) Option {
	return func(s *Server) {
		if d >= 0 {
			s.manifests.refresh = d
		}
	}
}

// manifestCache holds each ticker's registry manifest as last read, and the
// configs of versions the naive forecast was sized by.
type manifestCache struct {
	refresh time.Duration

	mu      sync.Mutex
	byTick  map[string]*manifestEntry
	reading map[string]*firstRead           // first reads in flight
	configs map[pinKey]model.ArtifactConfig // immutable once registered
}

// manifestEntry is one ticker's manifest in memory. Its fields are guarded
// by manifestCache.mu.
type manifestEntry struct {
	manifest registry.Manifest
	gen      string    // the manifest's store generation
	checked  time.Time // when the store last confirmed gen
	checking bool      // a check is in flight
	failing  bool      // the last check found the store unavailable
}

// firstRead is a ticker's first manifest read, which concurrent requests
// for the ticker wait on.
type firstRead struct {
	done chan struct{}
	err  error
}

func newManifestCache() *manifestCache {
	return &manifestCache{
		refresh: DefaultManifestRefresh,
		byTick:  map[string]*manifestEntry{},
		reading: map[string]*firstRead{},
		configs: map[pinKey]model.ArtifactConfig{},
	}
}

// manifest returns ticker's registry manifest for a /predict request, from
// memory once it has been read: in the steady state it costs no store call
// at all. When the manifest was last checked more than the refresh interval
// ago, one request starts a check in the background (see
// WithManifestRefresh) and answers from memory, as the others do meanwhile.
// A manifest last checked more than 1.5 intervals ago (the ticker had no
// requests for a while) is checked before the request that finds it
// answers, so that no answer rests on a check older than that: a promotion
// is served within 1.5 s by default, however sparse the requests.
//
// stale is true when the store is unavailable (a remembered outage, or the
// last check found it so): the manifest is the one last read. While the
// outage is remembered nothing tries the store; afterwards the next request
// checks synchronously, bounded by the lookup timeout, so that it answers
// as the store says once it is back. A ticker not read yet while the store
// is unavailable gets ErrUnavailable (503).
func (s *Server) manifest(ctx context.Context, ticker string) (m registry.Manifest, stale bool, err error) {
	c := s.manifests
	for {
		c.mu.Lock()
		e := c.byTick[ticker]
		if e == nil {
			c.mu.Unlock()
			if err := s.health.down(); err != nil {
				return registry.Manifest{}, false, err
			}
			if err := s.readManifest(ctx, ticker); err != nil {
				return registry.Manifest{}, false, err
			}
			continue
		}
		if s.health.down() != nil {
			m := e.manifest
			c.mu.Unlock()
			return m, true, nil
		}
		m, failing, age := e.manifest, e.failing, time.Since(e.checked)
		inline := failing || c.refresh <= 0 || age >= c.refresh+c.refresh/2
		if e.checking || (!inline && age < c.refresh) {
			c.mu.Unlock()
			return m, failing, nil
		}
		e.checking = true
		c.mu.Unlock()
		if !inline {
			go s.checkManifest(context.Background(), ticker, e)
			return m, false, nil
		}
		if err := s.checkManifest(ctx, ticker, e); errors.Is(err, registry.ErrNoModel) {
			return registry.Manifest{}, false, err // gone from the store
		}
		c.mu.Lock()
		m, failing = e.manifest, e.failing
		c.mu.Unlock()
		return m, failing || s.health.down() != nil, nil
	}
}

// readManifest reads ticker's manifest into the cache; concurrent callers
// wait for one read.
func (s *Server) readManifest(ctx context.Context, ticker string) error {
	c := s.manifests
	for {
		c.mu.Lock()
		if c.byTick[ticker] != nil {
			c.mu.Unlock()
			return nil
		}
		if r := c.reading[ticker]; r != nil {
			c.mu.Unlock()
			select {
			case <-r.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if r.err != nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) && !errors.Is(r.err, blob.ErrUnavailable) {
				continue // the reader's own request ended; read again
			}
			return r.err
		}
		r := &firstRead{done: make(chan struct{})}
		c.reading[ticker] = r
		c.mu.Unlock()

		m, gen, err := s.reg.ManifestGen(ctx, ticker)
		if errors.Is(err, blob.ErrUnavailable) {
			s.health.markDown(err)
		}
		c.mu.Lock()
		delete(c.reading, ticker)
		if err == nil {
			c.byTick[ticker] = &manifestEntry{manifest: m, gen: gen, checked: time.Now()}
		}
		r.err = err
		close(r.done)
		c.mu.Unlock()
		return err
	}
}

// checkManifest asks the store for the generation of ticker's manifest and
// reads the manifest again only if it changed, within the lookup timeout;
// the caller has set e.checking. It returns the check's error: an outage
// (recorded in the store's health, and in e as failing), or ErrNoModel when
// the manifest is gone (the entry is dropped, so the next request reads
// again).
func (s *Server) checkManifest(parent context.Context, ticker string, e *manifestEntry) error {
	c := s.manifests
	ctx, cancel := context.WithTimeout(parent, s.lookupTimeout)
	defer cancel()
	c.mu.Lock()
	known := e.gen
	c.mu.Unlock()

	gen, err := s.reg.ManifestGeneration(ctx, ticker)
	var (
		m       registry.Manifest
		changed bool
	)
	if err == nil && gen != known {
		m, gen, err = s.reg.ManifestGen(ctx, ticker)
		changed = err == nil
	}
	if err != nil && parent.Err() == nil && ctx.Err() != nil {
		err = s.timedOut("stat", "registry/"+ticker+".json", err)
	}

	c.mu.Lock()
	e.checking = false
	switch {
	case err == nil:
		if changed {
			e.manifest, e.gen = m, gen
		}
		e.checked, e.failing = time.Now(), false
	case errors.Is(err, blob.ErrUnavailable):
		e.failing = true
	case errors.Is(err, registry.ErrNoModel):
		if c.byTick[ticker] == e {
			delete(c.byTick, ticker)
		}
	case parent.Err() != nil:
		// the request that checked ended: the next one checks again
	default:
		e.checked = time.Now() // not an outage; try again after the interval
	}
	c.mu.Unlock()

	switch {
	case errors.Is(err, blob.ErrUnavailable):
		s.health.markDown(err)
	case err != nil && !errors.Is(err, registry.ErrNoModel) && parent.Err() == nil:
		s.log.Warn("registry manifest check failed; serving the manifest last read", "ticker", ticker, "err", err)
	}
	return err
}

// versionConfig returns the config (lookback, horizon) of one version of
// ticker: from a loaded model when there is one, else read from the
// registry once and remembered.
func (s *Server) versionConfig(ctx context.Context, ticker string, version int) (model.ArtifactConfig, error) {
	if m, _, ok := s.models.current(ticker); ok && m.version == version {
		return m.cfg, nil
	}
	if m, ok := s.pinned.loaded(ticker, version); ok {
		return m.cfg, nil
	}
	c := s.manifests
	key := pinKey{ticker: ticker, version: version}
	c.mu.Lock()
	cfg, ok := c.configs[key]
	c.mu.Unlock()
	if ok {
		return cfg, nil
	}
	if err := s.health.down(); err != nil {
		return cfg, err
	}
	cfg, err := readConfig(ctx, s.reg, ticker, version)
	if errors.Is(err, blob.ErrUnavailable) {
		s.health.markDown(err)
	}
	if err != nil {
		return cfg, err
	}
	c.mu.Lock()
	c.configs[key] = cfg
	c.mu.Unlock()
	return cfg, nil
}
