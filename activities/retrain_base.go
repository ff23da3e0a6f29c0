package activities

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/model"
)

// ResolveBase finds the version a retrain starts from: the one asked for,
// else the ticker's champion or, when no version has beaten naive yet, its
// latest; and what
// that version was trained on and with (raw data, training split, weights,
// transform, hyperparameters, cleaning). A ticker with no version fails
// with the non-retryable NoModel error.
func (a *Activities) ResolveBase(ctx context.Context, in steps.ResolveBaseInput) (pipeline.BaseModel, error) {
	reg := registry.Registry{Store: a.Store}
	m, err := reg.Manifest(ctx, in.Ticker)
	if errors.Is(err, registry.ErrNoModel) || (err == nil && len(m.Versions) == 0) {
		return pipeline.BaseModel{}, invalid(steps.ErrNoModel, err,
			"%s has no registered model to retrain: train one first (starter train --ticker %s --csv FILE)", in.Ticker, in.Ticker)
	}
	if err != nil {
		return pipeline.BaseModel{}, storeErr(err, "read registry of %s", in.Ticker)
	}
	v, ok := m.Alias(registry.Champion)
	why := "champion"
	switch {
	case in.Version > 0:
		if v, ok = m.Version(in.Version); !ok {
			return pipeline.BaseModel{}, invalid(steps.ErrNotFound, nil, "%s has no v%d to retrain (latest is v%d)", in.Ticker, in.Version, m.Versions[len(m.Versions)-1].Version)
		}
		why = "asked for (--base)"
	case !ok:
		v, _ = m.Latest()
		why = "latest (no version has beaten naive yet)"
	}
	base := pipeline.BaseModel{Version: v.Version, Why: why, RunID: v.RunID}
	if err := a.readBaseArtifact(ctx, reg, in.Ticker, &base); err != nil {
		return pipeline.BaseModel{}, err
	}
	if err := a.readBaseRun(ctx, &base); err != nil {
		return pipeline.BaseModel{}, err
	}
	raw, err := a.readBars(ctx, base.Raw)
	if err != nil {
		return pipeline.BaseModel{}, err
	}
	base.LastDate = raw.Date[raw.Len()-1].Format("2006-01-02")
	return base, nil
}

// readBaseArtifact fills weights, transform, lineage and shape from the
// version's folder in the registry.
func (a *Activities) readBaseArtifact(ctx context.Context, reg registry.Registry, ticker string, base *pipeline.BaseModel) error {
	dir := registry.Dir(ticker, base.Version)
	var err error
	if base.Weights, err = a.pinned(ctx, dir+"/"+registry.FileWeights); err != nil {
		return err
	}
	if base.Transform, err = a.pinned(ctx, dir+"/"+registry.FileScaler); err != nil {
		return err
	}
	var t prep.Transform
	if err := a.readJSON(ctx, base.Transform, &t); err != nil {
		return err
	}
	base.Spec = t.Spec
	var cfg model.ArtifactConfig
	var lin lineage
	for name, dst := range map[string]any{registry.FileConfig: &cfg, registry.FileLineage: &lin} {
		b, err := reg.ReadFile(ctx, ticker, base.Version, name)
		if err != nil {
			return storeErr(err, "base model %s v%d", ticker, base.Version)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return invalid(steps.ErrCorrupt, err, "base model %s v%d %s: %v", ticker, base.Version, name, err)
		}
	}
	base.Lookback, base.Horizon, base.Raw, base.Params = cfg.Lookback, cfg.Horizon, lin.Raw, lin.Params
	if base.Raw.Key == "" {
		return invalid(steps.ErrCorrupt, nil, "base model %s v%d names no raw data in its lineage", ticker, base.Version)
	}
	return nil
}

// readBaseRun takes the training split and the cleaning and validation
// settings from the base's run record; without a record (deleted runs/),
// the raw data is split the default way again.
func (a *Activities) readBaseRun(ctx context.Context, base *pipeline.BaseModel) error {
	rec, err := runs.Read(ctx, a.Store, base.RunID)
	switch {
	case err == nil && rec.Data.Splits[0].Key != "":
		base.Train = rec.Data.Splits[0]
		base.Clean, base.Validate = rec.Input.Clean, rec.Input.Validate
		if r := rec.RetrainResult; r != nil {
			base.Clean, base.Validate = r.Base.Clean, r.Base.Validate
		}
	case err == nil || errors.Is(err, runs.ErrNotFound) || errors.Is(err, blob.ErrNotFound):
		s, err := a.Split(ctx, steps.SplitInput{Raw: base.Raw, Fractions: prep.DefaultFractions})
		if err != nil {
			return err
		}
		base.Train = s.Train
	default:
		return storeErr(err, "read run %s of the base model", base.RunID)
	}
	if base.Clean.Missing == "" {
		base.Clean = prep.DefaultCleanSpec()
	}
	return nil
}

// pinned references an existing object by its current content hash, so a
// later step reads exactly the bytes this one saw.
func (a *Activities) pinned(ctx context.Context, key string) (blob.Ref, error) {
	b, err := a.readVerified(ctx, blob.Ref{Key: key})
	if err != nil {
		return blob.Ref{}, err
	}
	return blob.Ref{Key: key, SHA256: blob.ContentHash(b)}, nil
}
