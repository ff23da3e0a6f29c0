package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/runs"
)

// UIRunsPerPage is how many runs a page of /ui/runs lists.
const UIRunsPerPage = 50

// DefaultRunsIndexRefresh is how often, at most, /ui/runs checks whether
// the index of runs changed.
const DefaultRunsIndexRefresh = time.Second

// WithRunsIndexRefresh sets how often, at most, /ui/runs asks the store
// whether the index of runs changed (default DefaultRunsIndexRefresh); in
// between it answers from memory. A check lists the index objects and asks
// each one's generation (metadata only), and reads only those that
// changed. d == 0 checks on every request; d < 0 is ignored.
func WithRunsIndexRefresh(d time.Duration) Option {
	return func(s *Server) {
		if d >= 0 {
			s.runsIndex.refresh = d
		}
	}
}

// runsIndexCache holds the index of runs as last read: each index object's
// rows by its generation, and all rows merged, newest first.
type runsIndexCache struct {
	refresh time.Duration

	mu      sync.Mutex // held across a check, so one request checks at a time
	ensured bool       // the index was found built (or rebuilt)
	objects map[string]indexObject
	all     []runs.Summary // immutable once published; replaced on change
	checked time.Time
}

type indexObject struct {
	gen  string
	rows []runs.Summary
}

func newRunsIndexCache() *runsIndexCache {
	return &runsIndexCache{refresh: DefaultRunsIndexRefresh, objects: map[string]indexObject{}}
}

// rows returns every run's row, newest first, from memory when it was
// checked within the refresh interval; otherwise it checks the index
// objects' generations and reads the changed ones. The first call rebuilds
// the index when the store has none yet (runs.EnsureIndex). Callers must
// not modify the slice.
func (c *runsIndexCache) rows(ctx context.Context, s blob.Store) ([]runs.Summary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ensured && c.refresh > 0 && time.Since(c.checked) < c.refresh {
		return c.all, nil
	}
	if !c.ensured {
		if err := runs.EnsureIndex(ctx, s); err != nil {
			return nil, err
		}
		c.ensured = true
	}
	keys, err := runs.IndexKeys(ctx, s)
	if err != nil {
		return nil, err
	}
	changed := len(keys) != len(c.objects)
	next := make(map[string]indexObject, len(keys))
	for _, k := range keys {
		gen, err := s.Generation(ctx, k)
		if errors.Is(err, blob.ErrNotFound) {
			changed = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("runs index: %w", err)
		}
		if o, ok := c.objects[k]; ok && o.gen == gen {
			next[k] = o
			continue
		}
		b, gen, err := s.GetGen(ctx, k)
		if errors.Is(err, blob.ErrNotFound) {
			changed = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("runs index: %w", err)
		}
		rows, err := runs.DecodeIndex(b)
		if err != nil {
			return nil, fmt.Errorf("runs index %s: %w", k, err)
		}
		next[k], changed = indexObject{gen: gen, rows: rows}, true
	}
	if changed {
		var all []runs.Summary
		for _, o := range next {
			all = append(all, o.rows...)
		}
		slices.SortStableFunc(all, newestFirst)
		c.objects, c.all = next, all
	}
	c.checked = time.Now()
	return c.all, nil
}

func newestFirst(a, b runs.Summary) int {
	if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
