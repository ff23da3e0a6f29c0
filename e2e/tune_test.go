package e2e

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/model"
)

func TestTunedPipelineTrainsTheBestTrialsArchitecture(t *testing.T) {
	s := startStack(t)
	res := s.train(t, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: s.upload(t, sharedtest.Path(t, "single", "NFLX.csv")),
		Model: pipeline.ModelParams{Epochs: 2},
		Tune:  pipeline.TuneSpec{Trials: 5, Concurrency: 2, Sampler: "tpe", Epochs: 2, Seed: 3}})
	if len(res.Tuning) != 5 {
		t.Fatalf("%d trials recorded, want 5", len(res.Tuning))
	}
	var best pipeline.Trial
	pruned := 0
	for _, tr := range res.Tuning {
		if tr.ID == res.BestTrial {
			best = tr
		}
		if tr.Pruned {
			pruned++
		}
		if tr.Error != "" {
			t.Errorf("trial %d failed: %s", tr.ID, tr.Error)
		}
	}
	t.Logf("best trial #%d of 5 (%d pruned): %d×LSTM(%d) lr %.2g batch %d, val loss %.5f; final test RMSE %.3f vs naive %.3f",
		best.ID, pruned, best.Params.Layers, best.Params.Units, best.Params.LearningRate, best.Params.BatchSize, best.Best,
		res.Metrics.TestRMSE, res.Metrics.NaiveRMSE)
	raw, err := registry.Registry{Store: s.store}.ReadFile(context.Background(), "NFLX", res.ModelVersion, registry.FileConfig)
	if err != nil {
		t.Fatal(err)
	}
	var cfg model.ArtifactConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Model.Layers != best.Params.Layers || cfg.Model.Units != best.Params.Units {
		t.Fatalf("saved model is %d×LSTM(%d), the best trial was %d×LSTM(%d)", cfg.Model.Layers, cfg.Model.Units, best.Params.Layers, best.Params.Units)
	}
	weights, err := registry.Registry{Store: s.store}.ReadFile(context.Background(), "NFLX", res.ModelVersion, registry.FileWeights)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadAny(weights, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Config(); got.Layers != best.Params.Layers || got.Units != best.Params.Units {
		t.Fatalf("saved weights are %d×LSTM(%d), want the best trial's %d×LSTM(%d)", got.Layers, got.Units, best.Params.Layers, best.Params.Units)
	}
}
