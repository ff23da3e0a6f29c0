package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/model"
)

// lineage records where a model's data came from.
type lineage struct {
	RunID  string               `json:"run_id"`
	CSVKey string               `json:"csv_key"`
	Raw    blob.Ref             `json:"raw"`
	Params pipeline.ModelParams `json:"params"`
	// Retrain is set for retrained models: the base version, the mode and
	// every raw parent of Raw.
	Retrain *steps.RetrainLineage `json:"retrain,omitempty"`
}

// Register saves weights, scaler, config, metrics and lineage as the next
// version of the ticker's model and makes it the latest. Registering the
// same run twice (a retry) returns the version it already has.
func (a *Activities) Register(ctx context.Context, in steps.RegisterInput) (steps.RegisterResult, error) {
	weights, err := a.readVerified(ctx, in.Weights)
	if err != nil {
		return steps.RegisterResult{}, err
	}
	transform, err := a.readVerified(ctx, in.Transform)
	if err != nil {
		return steps.RegisterResult{}, err
	}
	files := map[string][]byte{registry.FileWeights: weights, registry.FileScaler: transform}
	for name, v := range map[string]any{
		registry.FileConfig:  model.ArtifactConfig{Model: in.Config, Lookback: in.Lookback, Horizon: in.Horizon},
		registry.FileMetrics: in.Metrics,
		registry.FileLineage: lineage{RunID: in.RunID, CSVKey: in.CSVKey, Raw: in.Raw, Params: in.Params, Retrain: in.Retrain},
	} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return steps.RegisterResult{}, fmt.Errorf("encode %s: %w", name, err)
		}
		files[name] = b
	}
	info := activity.GetInfo(ctx)
	v := registry.Version{RunID: in.RunID, Execution: info.WorkflowExecution.RunID, CreatedAt: info.StartedTime.UTC(), DataSHA256: in.Raw.SHA256, Metrics: in.Metrics}
	reg := registry.Registry{Store: a.Store, AfterFiles: func(string, int) { a.CrashAt.reach(CrashRegisterAfterFiles) }}
	got, err := reg.Register(ctx, in.Ticker, v, files)
	if err != nil {
		return steps.RegisterResult{}, err
	}
	a.CrashAt.reach(CrashRegisterAfterManifest)
	return steps.RegisterResult{Version: got.Version, URI: a.Store.URI(registry.Dir(in.Ticker, got.Version))}, nil
}
