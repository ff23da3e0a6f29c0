// Package runs keeps the record of every pipeline run in the blob store,
// next to its artifacts (FinSight's replacement for MLflow tracking):
//
//	runs/<run-id>/run.json          the record, rewritten atomically as the run goes
//	runs/<run-id>/stats/<step>.json wall time and peak memory of each step
//	runs/<run-id>/plots/*.png, report.html, checkpoints/, model/
package runs

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
)

// Statuses of a run.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled" // someone cancelled the run (or its search)
)

// ErrNotFound means no run has that id.
var ErrNotFound = errors.New("run not found")

// Record is everything known about one pipeline run.
type Record struct {
	ID         string                   `json:"id"`
	Workflow   string                   `json:"workflow"`
	Ticker     string                   `json:"ticker"`
	Status     string                   `json:"status"`
	Stage      string                   `json:"stage"` // the step running now, or the last one
	StartedAt  time.Time                `json:"started_at"`
	FinishedAt *time.Time               `json:"finished_at,omitempty"`
	Code       string                   `json:"code_version"` // git commit of the worker, when known
	Input      pipeline.TrainingInput   `json:"params"`
	Data       Data                     `json:"data"`
	Steps      []Step                   `json:"steps"`
	Result     *pipeline.TrainingResult `json:"result,omitempty"`
	// Retraining runs (Workflow RetrainingPipeline) record their own input
	// and result; Input and Result stay empty.
	Retrain       *pipeline.RetrainingInput  `json:"retrain_params,omitempty"`
	RetrainResult *pipeline.RetrainingResult `json:"retrain_result,omitempty"`
	Anomalies     []Anomaly                  `json:"anomalies,omitempty"`      // the first few, critical first
	AnomalyCounts map[string]int             `json:"anomaly_counts,omitempty"` // of all, by severity; the list is artifact "anomalies.json"
	Artifacts     map[string]string          `json:"artifacts,omitempty"`      // name → URI
	Promotion     *Promotion                 `json:"promotion,omitempty"`
	Error         string                     `json:"error,omitempty"`
	// Notifications are the events the run told people about (package
	// notify) and how each delivery went; Read fills in the outcome each
	// delivery recorded after the run saved the record.
	Notifications []Notification `json:"notifications,omitempty"`
}

// Final is how a run ended.
type Final struct {
	Status     string    `json:"status"`
	FinishedAt time.Time `json:"finished_at"`
	Error      string    `json:"error,omitempty"`
}

// Data lists the versions a run read and wrote (lineage).
type Data struct {
	CSV string `json:"csv"`
	// Read says how the CSV was read: its source, delimiter and date
	// format, and whether newest-first rows were sorted.
	Read    string      `json:"read,omitempty"`
	Raw     blob.Ref    `json:"raw"`
	Splits  [3]blob.Ref `json:"splits"`  // train, val, test as split
	Cleaned [3]blob.Ref `json:"cleaned"` // after cleaning
	Windows [3]blob.Ref `json:"windows"`
}

// Step is one pipeline step's timing, and its peak memory when measured.
type Step struct {
	Name      string    `json:"name"`
	StartedAt time.Time `json:"started_at"`
	WallMS    int64     `json:"wall_ms"`
	PeakRSSMB float64   `json:"peak_rss_mb,omitempty"`
	Attempts  int32     `json:"attempts,omitempty"`
	// Worker is the worker process that ran the step's activity (its last
	// attempt), as Stat.Worker names it; empty for a step that ran no
	// activity (a child workflow) or was recorded before workers were named.
	Worker string `json:"worker,omitempty"`
}

// Anomaly is a data-validation finding as recorded with the run.
type Anomaly = pipeline.Anomaly

// Promotion is what the registry's gate decided for the run's model.
type Promotion struct {
	Version  int    `json:"version"`
	Alias    string `json:"alias"` // champion or challenger
	Promoted bool   `json:"promoted"`
	Forced   bool   `json:"forced"`
	Reason   string `json:"reason"`
	// Gate is what the comparison with naive was judged on; for the
	// backtest gate, the folds and the pooled Diebold–Mariano test at
	// level Alpha (see pipeline.Promotion).
	Gate     string        `json:"gate,omitempty"`
	Alpha    float64       `json:"alpha,omitempty"`
	Folds    int           `json:"folds,omitempty"`
	DMStat   metrics.Maybe `json:"dm_stat,omitempty"`
	DMPValue metrics.Maybe `json:"dm_p_value,omitempty"`
}

// NewPromotion is the record of the gate's decision p on version.
func NewPromotion(version int, p pipeline.Promotion) *Promotion {
	return &Promotion{Version: version, Alias: p.Alias, Promoted: p.Promoted, Forced: p.Forced, Reason: p.Reason,
		Gate: p.Gate, Alpha: p.Alpha, Folds: p.Folds, DMStat: p.DMStat, DMPValue: p.DMPValue}
}

// Stat is what the worker measured for one activity execution.
type Stat struct {
	Activity  string    `json:"activity"`
	StartedAt time.Time `json:"started_at"`
	WallMS    int64     `json:"wall_ms"`
	PeakRSSMB float64   `json:"peak_rss_mb"`
	Attempt   int32     `json:"attempt"`
	Error     string    `json:"error,omitempty"`
	// Worker is the worker process that ran it (pid@host, the Temporal
	// SDK's default identity, unless the worker names itself otherwise).
	Worker string `json:"worker,omitempty"`
}

// Write stores the record atomically, then its row in the index of runs
// (UpdateIndex). An error from either leaves the caller to write again:
// writing the same record again replaces its row.
func Write(ctx context.Context, s blob.Store, r Record) error {
	if err := blob.PutJSON(ctx, s, recordKey(r.ID), r); err != nil {
		return fmt.Errorf("write run %s: %w", r.ID, err)
	}
	return UpdateIndex(ctx, s, r)
}

// Read loads one record.
func Read(ctx context.Context, s blob.Store, id string) (Record, error) {
	if err := blob.ValidateKey(recordKey(id)); err != nil || strings.Contains(id, "/") {
		return Record{}, fmt.Errorf("run %q: %w", id, ErrNotFound)
	}
	var r Record
	err := blob.GetJSON(ctx, s, recordKey(id), &r)
	if errors.Is(err, blob.ErrNotFound) {
		return r, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read run %s: %w", id, err)
	}
	withNotifications(ctx, s, &r)
	return r, nil
}

// List returns the records (newest first), of one ticker when ticker is set.
func List(ctx context.Context, s blob.Store, ticker string) ([]Record, error) {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var out []Record
	for _, k := range keys {
		if path.Base(k) != "run.json" || strings.Count(k, "/") != 2 {
			continue
		}
		r, err := Read(ctx, s, path.Base(path.Dir(k)))
		if err != nil {
			return nil, err
		}
		if ticker == "" || r.Ticker == ticker {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	return out, nil
}

// WriteStat stores one activity measurement of a run.
func WriteStat(ctx context.Context, s blob.Store, runID, name string, st Stat) error {
	return blob.PutJSON(ctx, s, statsKey(runID, name), st)
}

// ReadStats loads every activity measurement of a run, oldest first.
func ReadStats(ctx context.Context, s blob.Store, runID string) ([]Stat, error) {
	keys, err := s.List(ctx, Key(runID, "stats/"))
	if err != nil {
		return nil, fmt.Errorf("list stats of %s: %w", runID, err)
	}
	out := make([]Stat, 0, len(keys))
	for _, k := range keys {
		var st Stat
		if err := blob.GetJSON(ctx, s, k, &st); err != nil {
			return nil, fmt.Errorf("read %s: %w", k, err)
		}
		out = append(out, st)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.Before(out[j].StartedAt) })
	return out, nil
}
