package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/artifact"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
)

// What answered a /predict request (the answer's selection): the ticker's
// champion by default, or the naive forecast when it has none; with
// ?version=N, that version; with ?alias=NAME, the alias's name.
const (
	selectChampion = registry.Champion
	selectNaive    = "naive"
	selectVersion  = "version"
)

// Query parameters of /predict that choose the model.
const (
	queryVersion = "version"
	queryAlias   = "alias"
)

// askFor is the model a request asked for: the default (zero), a version
// or an alias.
type askFor struct {
	version int
	alias   string
}

func (a askFor) isDefault() bool { return a.version == 0 && a.alias == "" }

// parseAsk reads ?version=N or ?alias=NAME.
func parseAsk(c *gin.Context) (askFor, error) {
	var a askFor
	v, hasVersion := c.GetQuery(queryVersion)
	al, hasAlias := c.GetQuery(queryAlias)
	if hasVersion && hasAlias {
		return a, errors.New("give ?version= or ?alias=, not both")
	}
	if hasVersion {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return a, fmt.Errorf("?version=%q: want a version number (1, 2, ...)", v)
		}
		a.version = n
	}
	if hasAlias {
		if a.alias = strings.TrimSpace(al); a.alias == "" {
			return a, errors.New("?alias= is empty: name an alias, such as champion or challenger")
		}
	}
	return a, nil
}

// choice is what answers a /predict request.
type choice struct {
	selection string       // see selectChampion
	model     *loadedModel // nil: the naive forecast (the window's last Open)
	reason    string       // why the naive forecast answers
	// lookback is how many days of prices a window needs (for the naive
	// forecast, what the ticker's models need, so a request that the
	// champion would answer is answered either way); horizon is how many
	// trading days ahead the forecast is.
	lookback, horizon int
	// stale: the store is unavailable and what was read before answers
	// (registry_unavailable in the answer).
	stale bool
	// bands are the answer's prediction intervals (bandsFor); none for
	// versions registered before intervals.
	bands intervalBands
}

// version is the answering model's version, 0 for the naive forecast.
func (ch choice) version() int {
	if ch.model == nil {
		return 0
	}
	return ch.model.version
}

func modelChoice(selection string, m *loadedModel, stale bool) choice {
	return choice{selection: selection, model: m, lookback: m.cfg.Lookback, horizon: m.cfg.Horizon, stale: stale}
}

// notFound is the message of a 404: the ticker has no such version or alias.
type notFound string

func (e notFound) Error() string { return string(e) }

// resolve chooses what answers ticker's request (see choice), from the
// registry manifest in memory (Server.manifest).
//
// When the store is unavailable, the manifest last read decides; a model
// that would have to be loaded cannot be, and then the champion loaded
// before answers (stale), as the registry last named it, or, for a version
// or alias asked for, the error is ErrUnavailable (503).
func (s *Server) resolve(ctx context.Context, ticker string, ask askFor) (choice, error) {
	m, stale, err := s.manifest(ctx, ticker)
	if err != nil {
		return choice{}, err
	}
	ch, err := s.resolveIn(ctx, ticker, ask, m, stale)
	if err != nil {
		return ch, err
	}
	ch.bands = bandsFor(m, ch)
	return ch, nil
}

// resolveIn is resolve on the manifest m.
func (s *Server) resolveIn(ctx context.Context, ticker string, ask askFor, m registry.Manifest, stale bool) (choice, error) {
	if len(m.Versions) == 0 {
		return choice{}, fmt.Errorf("%s: %w", ticker, registry.ErrNoModel)
	}
	switch {
	case ask.version > 0:
		if _, ok := m.Version(ask.version); !ok {
			return choice{}, notFound(fmt.Sprintf("%s has no version %d (its versions: %s)", ticker, ask.version, versionList(m)))
		}
		return s.pinnedChoice(ctx, ticker, ask.version, selectVersion, stale)
	case ask.alias != "":
		v, ok := m.Alias(ask.alias)
		if !ok {
			return choice{}, notFound(fmt.Sprintf("%s has no alias %q (its aliases: %s)", ticker, ask.alias, aliasList(m)))
		}
		return s.pinnedChoice(ctx, ticker, v.Version, ask.alias, stale)
	}
	if v, ok := m.Alias(registry.Champion); ok {
		return s.championChoice(ctx, ticker, v.Version, stale)
	}
	return s.naiveChoice(ctx, ticker, m, stale)
}

// championChoice is the champion, version, loaded unless it is the
// ticker's loaded model. If it cannot be loaded because the store is
// unavailable, the model loaded before answers, stale.
func (s *Server) championChoice(ctx context.Context, ticker string, version int, stale bool) (choice, error) {
	loaded, loadedAs, haveLoaded := s.models.current(ticker)
	if !haveLoaded || loaded.version != version {
		if err := s.health.down(); err != nil { // do not try the store within the outage
			if haveLoaded {
				return modelChoice(loadedAs, loaded, true), nil
			}
			return choice{}, err
		}
	}
	m, err := s.models.use(ctx, ticker, version, selectChampion)
	if errors.Is(err, blob.ErrUnavailable) {
		s.health.markDown(err)
		if haveLoaded {
			return modelChoice(loadedAs, loaded, true), nil // the new champion cannot be read: the loaded one answers
		}
	}
	if err != nil {
		return choice{}, err
	}
	return modelChoice(selectChampion, m, stale), nil
}

// pinnedChoice is a version asked for, as selection: the ticker's loaded
// model if it is that version, else one loaded beside it (pinnedModels).
func (s *Server) pinnedChoice(ctx context.Context, ticker string, version int, selection string, stale bool) (choice, error) {
	if m, _, ok := s.models.current(ticker); ok && m.version == version {
		return modelChoice(selection, m, stale), nil
	}
	m, err := s.pinned.get(ticker, version, func() (*loadedModel, error) {
		if err := s.health.down(); err != nil {
			return nil, err
		}
		m, err := s.models.load(ctx, ticker, version)
		s.metrics.ModelLoad(ticker, err)
		return m, err
	})
	if errors.Is(err, blob.ErrUnavailable) {
		s.health.markDown(err)
	}
	if err != nil {
		return choice{}, err
	}
	return modelChoice(selection, m, stale), nil
}

// naiveChoice is the naive forecast of a ticker with no champion (no
// version beat the naive forecast), sized by the config of the version
// the reason names.
func (s *Server) naiveChoice(ctx context.Context, ticker string, m registry.Manifest, stale bool) (choice, error) {
	basis, ok := m.Best()
	if !ok {
		basis, _ = m.Latest()
	}
	cfg, err := s.versionConfig(ctx, ticker, basis.Version)
	if err != nil {
		return choice{}, err
	}
	return choice{selection: selectNaive, reason: naiveReason(ticker, m), lookback: cfg.Lookback, horizon: cfg.Horizon, stale: stale}, nil
}

// naiveReason says why a ticker without a champion gets the naive
// forecast, naming its best version and that version's test RMSE beside
// the naive forecast's on the same test days.
func naiveReason(ticker string, m registry.Manifest) string {
	best, ok := m.Best()
	if !ok {
		return fmt.Sprintf("%s has no champion, and none of its versions (%s) has test metrics to compare with the naive forecast",
			ticker, versionList(m))
	}
	t := best.Metrics
	if !(t.TestRMSE < t.NaiveRMSE) {
		return fmt.Sprintf("no version of %s beats the naive forecast: best is v%d, test RMSE %s vs naive %s",
			ticker, best.Version, rmse(t.TestRMSE), rmse(t.NaiveRMSE))
	}
	return fmt.Sprintf("%s has no champion: best is v%d, test RMSE %s vs naive %s, not promoted",
		ticker, best.Version, rmse(t.TestRMSE), rmse(t.NaiveRMSE))
}

func rmse(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// versionList names a manifest's versions: "v1, v2, v3", or "v1 to v9" when
// there are many.
func versionList(m registry.Manifest) string {
	if len(m.Versions) == 0 {
		return "none"
	}
	if len(m.Versions) > 5 {
		return fmt.Sprintf("v%d to v%d", m.Versions[0].Version, m.Versions[len(m.Versions)-1].Version)
	}
	names := make([]string, len(m.Versions))
	for i, v := range m.Versions {
		names[i] = "v" + strconv.Itoa(v.Version)
	}
	return strings.Join(names, ", ")
}

// aliasList names a manifest's aliases: "champion → v2, challenger → v3".
func aliasList(m registry.Manifest) string {
	if len(m.Aliases) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m.Aliases))
	for name := range m.Aliases {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		names[i] = fmt.Sprintf("%s → v%d", name, m.Aliases[name])
	}
	return strings.Join(names, ", ")
}

// readConfig reads one version's config.json.
func readConfig(ctx context.Context, reg registry.Registry, ticker string, version int) (model.ArtifactConfig, error) {
	var cfg model.ArtifactConfig
	b, err := reg.ReadFile(ctx, ticker, version, registry.FileConfig)
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("decode %s v%d %s: %w: %v", ticker, version, registry.FileConfig, artifact.ErrCorrupt, err)
	}
	if cfg.Lookback == 0 { // artifacts from before lookback counted days of prices (as artifact.Load)
		cfg.Lookback = cfg.Model.Lookback
	}
	cfg.Lookback, cfg.Horizon = max(cfg.Lookback, 1), max(cfg.Horizon, 1)
	return cfg, nil
}

// maxPinned bounds the models pinnedModels keeps.
const maxPinned = 8

// pinnedModels holds the versions loaded for ?version= and ?alias=
// requests, beside each ticker's served model (modelCache), so that asking
// for another version does not unload the champion. It keeps at most
// maxPinned, dropping the least recently used; as in modelCache, a dropped
// model is retired (its tensors are freed by the garbage collector once no
// request uses it).
type pinnedModels struct {
	mu    sync.Mutex
	byKey map[pinKey]*pinnedModel
	clock uint64
}

// pinKey names one version of one ticker.
type pinKey struct {
	ticker  string
	version int
}

type pinnedModel struct {
	load  sync.Mutex // one load at a time
	model *loadedModel
	used  uint64 // pinnedModels.clock when last asked for
}

func newPinnedModels() *pinnedModels {
	return &pinnedModels{byKey: map[pinKey]*pinnedModel{}}
}

// get returns the version, loading it with load unless it is held.
func (p *pinnedModels) get(ticker string, version int, load func() (*loadedModel, error)) (*loadedModel, error) {
	k := pinKey{ticker: ticker, version: version}
	p.mu.Lock()
	e := p.byKey[k]
	if e == nil {
		e = &pinnedModel{}
		p.byKey[k] = e
	}
	p.clock++
	e.used = p.clock
	p.mu.Unlock()

	e.load.Lock()
	defer e.load.Unlock()
	p.mu.Lock()
	m := e.model
	p.mu.Unlock()
	if m != nil {
		return m, nil
	}
	m, err := load()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.byKey[k] == e && e.model == nil {
			delete(p.byKey, k)
		}
		return nil, err
	}
	e.model = m
	p.byKey[k] = e // again, if it was dropped meanwhile
	p.evict()
	return m, nil
}

// loaded returns the version if it is held.
func (p *pinnedModels) loaded(ticker string, version int) (*loadedModel, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.byKey[pinKey{ticker: ticker, version: version}]
	if e == nil || e.model == nil {
		return nil, false
	}
	return e.model, true
}

// evict drops the least recently used models past maxPinned; p.mu is held.
func (p *pinnedModels) evict() {
	for len(p.byKey) > maxPinned {
		var (
			oldest pinKey
			used   uint64
			found  bool
		)
		for k, e := range p.byKey {
			if e.model != nil && (!found || e.used < used) {
				oldest, used, found = k, e.used, true
			}
		}
		if !found {
			return
		}
		p.byKey[oldest].model.retire()
		delete(p.byKey, oldest)
	}
}

func (p *pinnedModels) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.byKey {
		if m := e.model; m != nil {
			m.close()
		}
		delete(p.byKey, k)
	}
}
