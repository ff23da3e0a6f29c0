package activities

import (
	"bytes"
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/model"
)

// TrainInput is the windowed data and the model settings of one run.
type TrainInput struct {
	RunID   string               `json:"run_id"`
	Windows Splits               `json:"windows"`
	Params  pipeline.ModelParams `json:"params"`
}

// TrainResult references the trained weights and the learning curve.
type TrainResult struct {
	Weights pipeline.DataRef     `json:"weights"`
	Config  model.Config         `json:"config"`
	Curve   []pipeline.EpochLoss `json:"curve"`
}

// Train fits the LSTM on the training windows, scoring the validation
// windows after every epoch, and heartbeats epoch, batch and losses.
func (a *Activities) Train(ctx context.Context, in TrainInput) (TrainResult, error) {
	p := in.Params
	params := model.TrainParams{Epochs: p.Epochs, BatchSize: p.BatchSize, LearningRate: p.LearningRate}
	if err := params.Validate(); err != nil {
		return TrainResult{}, invalid(ErrInvalidParams, err, "%v", err)
	}
	train, err := a.readWindows(ctx, in.Windows.Train)
	if err != nil {
		return TrainResult{}, err
	}
	val, err := a.readWindows(ctx, in.Windows.Val)
	if err != nil {
		return TrainResult{}, err
	}
	cfg := model.Config{Features: train.Features, Lookback: train.Lookback, Layers: p.Layers, Units: p.Units, Dropout: p.Dropout, Seed: p.Seed}
	if err := cfg.Validate(); err != nil {
		return TrainResult{}, invalid(ErrInvalidParams, err, "%v", err)
	}
	m, err := model.New(cfg, a.Device)
	if err != nil {
		return TrainResult{}, fmt.Errorf("build model: %w", err)
	}
	defer m.Close()
	curve, err := m.Fit(ctx, model.Dataset{X: train.X, Y: train.Y}, model.Dataset{X: val.X, Y: val.Y}, params,
		func(pr model.Progress) error {
			activity.RecordHeartbeat(ctx, pr)
			return nil
		})
	if err != nil {
		return TrainResult{}, fmt.Errorf("train: %w", err)
	}
	weights, err := m.MarshalWeights()
	if err != nil {
		return TrainResult{}, fmt.Errorf("save weights: %w", err)
	}
	ref := pipeline.DataRef{Key: fmt.Sprintf("runs/%s/model/weights.bin", in.RunID), SHA256: sha256Hex(weights)}
	if err := a.Store.Put(ctx, ref.Key, bytes.NewReader(weights)); err != nil {
		return TrainResult{}, fmt.Errorf("write %s: %w", ref.Key, err)
	}
	out := TrainResult{Weights: ref, Config: cfg}
	for _, e := range curve {
		out.Curve = append(out.Curve, pipeline.EpochLoss{Epoch: e.Epoch, TrainLoss: e.TrainLoss, ValLoss: e.ValLoss})
	}
	return out, nil
}
