package runs

// The index of runs: one small summary row per run, kept in one object per
// ticker (runs-index/<TICKER>.json), so that a list of runs (the /ui/runs
// page) reads a few small objects instead of every run record.
//
// Write updates the run's row with a compare-and-swap loop after writing the
// record, so every writer of run.json keeps the index current, and writing
// the same run again replaces its row. A store written before the index
// existed has no runs-index/_built.json: RebuildIndex (which EnsureIndex
// calls when that marker is missing) reads every record once, adds the rows
// the index lacks and writes the marker. Deleting runs-index/ rebuilds it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// IndexPrefix is the folder of the index objects, with a trailing slash.
const IndexPrefix = "runs-index/"

// indexBuiltKey marks an index that covers every run record: written by
// RebuildIndex. "_" is no ticker character, so it names no ticker's object.
const indexBuiltKey = IndexPrefix + "_built.json"

// maxIndexError bounds the error message a summary row keeps.
const maxIndexError = 200

// Kinds of run, as the index names them.
const (
	KindTraining   = "training"
	KindRetraining = "retraining"
)

// Summary is one run's row in the index: what a list of runs shows.
// Metrics are nil when the run has none (not finished, or undefined).
type Summary struct {
	ID       string `json:"id"`
	Ticker   string `json:"ticker"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	Stage    string `json:"stage,omitempty"`
	Data     string `json:"data,omitempty"` // the raw data's SHA-256, 12 hex digits
	Epochs   int    `json:"epochs,omitempty"`
	Units    int    `json:"units,omitempty"`
	Layers   int    `json:"layers,omitempty"`
	Lookback int    `json:"lookback,omitempty"`
	// LR is the learning rate; Trials the hyperparameter search's.
	LR        float64    `json:"lr,omitempty"`
	Trials    int        `json:"trials,omitempty"`
	TestRMSE  *float64   `json:"test_rmse,omitempty"`
	NaiveRMSE *float64   `json:"naive_rmse,omitempty"`
	MASE      *float64   `json:"mase,omitempty"`
	DMP       *float64   `json:"dm_p,omitempty"`
	Version   int        `json:"model_version,omitempty"`
	Promoted  bool       `json:"promoted,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Error     string     `json:"error,omitempty"` // shortened
}

// Duration is how long the run took, or 0 while it runs.
func (s Summary) Duration() time.Duration {
	if s.EndedAt == nil {
		return 0
	}
	return s.EndedAt.Sub(s.StartedAt)
}

// indexFile is one ticker's index object.
type indexFile struct {
	Runs []Summary `json:"runs"` // newest first
}

// IndexKey is the index object of ticker's runs ("_" holds the runs of no
// valid ticker).
func IndexKey(ticker string) string {
	if t, err := pipeline.NormalizeTicker(ticker); err != nil || t != ticker {
		ticker = "_"
	}
	return IndexPrefix + ticker + ".json"
}

// Summarize makes a record's index row.
func Summarize(r Record) Summary {
	s := Summary{ID: r.ID, Ticker: r.Ticker, Kind: kindOf(r), Status: r.Status, Stage: r.Stage,
		StartedAt: r.StartedAt, EndedAt: r.FinishedAt, Error: shorten(r.Error, maxIndexError)}
	raw := r.Data.Raw.SHA256
	if rr := r.RetrainResult; rr != nil {
		s.Epochs, s.LR = rr.Base.Params.Epochs, rr.Base.Params.LearningRate
		s.Units, s.Layers, s.Lookback = rr.Base.Params.Units, rr.Base.Params.Layers, rr.Base.Lookback
		s.TestRMSE, s.NaiveRMSE = finite(rr.Metrics.TestRMSE), finite(rr.Metrics.NaiveRMSE)
		if rr.Metrics.NaiveMAE > 0 {
			s.MASE = finite(rr.Metrics.TestMAE / rr.Metrics.NaiveMAE)
		}
		s.Version, s.Promoted = rr.ModelVersion, rr.Promotion.Promoted
		if rr.Raw.SHA256 != "" {
			raw = rr.Raw.SHA256
		}
	}
	if in := r.Retrain; in != nil {
		if in.Options.Epochs > 0 {
			s.Epochs = in.Options.Epochs
		}
		if in.Options.LearningRate > 0 {
			s.LR = in.Options.LearningRate
		}
	}
	if s.Kind != KindRetraining {
		in := r.Input
		s.Epochs, s.Units, s.Layers, s.Lookback = in.Model.Epochs, in.Model.Units, in.Model.Layers, in.Lookback
		s.LR, s.Trials = in.Model.LearningRate, in.Tune.Trials
	}
	if res := r.Result; res != nil {
		s.TestRMSE, s.NaiveRMSE = finite(res.Metrics.TestRMSE), finite(res.Metrics.NaiveRMSE)
		s.MASE, s.DMP = finite(float64(res.Efficacy.Overall.MASE)), finite(float64(res.Efficacy.Overall.DMPValue))
		s.Version, s.Promoted = res.ModelVersion, res.Promotion.Promoted
		if raw == "" {
			raw = res.Raw.SHA256
		}
	}
	if p := r.Promotion; p != nil {
		s.Promoted = p.Promoted
		if p.Version > 0 {
			s.Version = p.Version
		}
	}
	s.Data = raw[:min(12, len(raw))]
	return s
}

func kindOf(r Record) string {
	switch {
	case r.Workflow == pipeline.RetrainingWorkflow || r.Retrain != nil || r.RetrainResult != nil:
		return KindRetraining
	case r.Workflow == pipeline.TrainingWorkflow || r.Workflow == "":
		return KindTraining
	default:
		return r.Workflow
	}
}

func finite(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// UpdateIndex puts the run's row in its ticker's index object, replacing
// the row of the same id, with a compare-and-swap loop: concurrent writers
// lose no rows.
func UpdateIndex(ctx context.Context, s blob.Store, r Record) error {
	row := Summarize(r)
	err := blob.ReadModifyWrite(ctx, s, IndexKey(r.Ticker), func(cur []byte, found bool) ([]byte, bool, error) {
		f, err := decodeIndex(cur, found)
		if err != nil {
			return nil, false, err
		}
		f.upsert(row, true)
		return encodeIndex(f)
	})
	if err != nil {
		return fmt.Errorf("index run %s: %w", r.ID, err)
	}
	return nil
}

func decodeIndex(cur []byte, found bool) (indexFile, error) {
	var f indexFile
	if !found {
		return f, nil
	}
	if err := json.Unmarshal(cur, &f); err != nil {
		return f, fmt.Errorf("decode runs index: %w", err)
	}
	return f, nil
}

func encodeIndex(f indexFile) ([]byte, bool, error) {
	b, err := json.Marshal(f)
	return b, err == nil, err
}

// upsert puts row in f, keeping the rows newest first; an existing row of
// the same id is replaced when replace is set, else kept.
func (f *indexFile) upsert(row Summary, replace bool) {
	for i := range f.Runs {
		if f.Runs[i].ID == row.ID {
			if !replace {
				return
			}
			f.Runs = append(f.Runs[:i], f.Runs[i+1:]...)
			break
		}
	}
	i := sort.Search(len(f.Runs), func(i int) bool { return newer(row, f.Runs[i]) })
	f.Runs = append(f.Runs, Summary{})
	copy(f.Runs[i+1:], f.Runs[i:])
	f.Runs[i] = row
}

// newer orders rows newest first, then by id.
func newer(a, b Summary) bool {
	if !a.StartedAt.Equal(b.StartedAt) {
		return a.StartedAt.After(b.StartedAt)
	}
	return a.ID < b.ID
}

// RebuildIndex reconstructs the index from the run records: it reads every
// record, adds to each ticker's index object the rows it lacks (a row there
// came from a write at least as new as the record read here, so it is
// kept), and marks the index built. It returns the number of records read.
func RebuildIndex(ctx context.Context, s blob.Store) (int, error) {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return 0, fmt.Errorf("list runs: %w", err)
	}
	byKey := map[string][]Summary{}
	n := 0
	for _, k := range keys {
		if path.Base(k) != "run.json" || strings.Count(k, "/") != 2 {
			continue
		}
		var r Record
		if err := blob.GetJSON(ctx, s, k, &r); err != nil {
			if errors.Is(err, blob.ErrNotFound) {
				continue
			}
			return n, fmt.Errorf("rebuild runs index: read %s: %w", k, err)
		}
		n++
		byKey[IndexKey(r.Ticker)] = append(byKey[IndexKey(r.Ticker)], Summarize(r))
	}
	for key, rows := range byKey {
		err := blob.ReadModifyWrite(ctx, s, key, func(cur []byte, found bool) ([]byte, bool, error) {
			f, err := decodeIndex(cur, found)
			if err != nil {
				return nil, false, err
			}
			for _, row := range rows {
				f.upsert(row, false)
			}
			return encodeIndex(f)
		})
		if err != nil {
			return n, fmt.Errorf("rebuild runs index: %w", err)
		}
	}
	if err := blob.PutJSON(ctx, s, indexBuiltKey, map[string]any{"built_at": time.Now().UTC(), "records": n}); err != nil {
		return n, fmt.Errorf("rebuild runs index: %w", err)
	}
	return n, nil
}

// EnsureIndex rebuilds the index (RebuildIndex) when it was never built.
func EnsureIndex(ctx context.Context, s blob.Store) error {
	ok, err := s.Exists(ctx, indexBuiltKey)
	if err != nil {
		return fmt.Errorf("runs index: %w", err)
	}
	if !ok {
		_, err = RebuildIndex(ctx, s)
	}
	return err
}

// IndexKeys lists the index's per-ticker objects (after EnsureIndex).
func IndexKeys(ctx context.Context, s blob.Store) ([]string, error) {
	keys, err := s.List(ctx, IndexPrefix)
	if err != nil {
		return nil, fmt.Errorf("list runs index: %w", err)
	}
	out := keys[:0]
	for _, k := range keys {
		if k != indexBuiltKey && strings.HasSuffix(k, ".json") && strings.Count(k, "/") == 1 {
			out = append(out, k)
		}
	}
	return out, nil
}

// DecodeIndex parses an index object (as IndexKeys names), newest first.
func DecodeIndex(b []byte) ([]Summary, error) {
	f, err := decodeIndex(b, true)
	return f.Runs, err
}

// ReadIndex reads the rows of every run, newest first, ensuring the index
// first. It reads every index object: a server keeps them in memory and
// reads only the changed ones (by generation).
func ReadIndex(ctx context.Context, s blob.Store) ([]Summary, error) {
	if err := EnsureIndex(ctx, s); err != nil {
		return nil, err
	}
	keys, err := IndexKeys(ctx, s)
	if err != nil {
		return nil, err
	}
	var out []Summary
	for _, k := range keys {
		b, _, err := s.GetGen(ctx, k)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", k, err)
		}
		rows, err := DecodeIndex(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, rows...)
	}
	sort.SliceStable(out, func(i, j int) bool { return newer(out[i], out[j]) })
	return out, nil
}
