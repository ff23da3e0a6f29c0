package model

import (
	"context"
	"fmt"
	"math"
	"math/rand"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// Dataset is a set of windows: X is row-major [N][Lookback][Features].
type Dataset struct {
	X []float32
	Y []float32
}

// Len is the number of windows.
func (d Dataset) Len() int { return len(d.Y) }

func (d Dataset) check(cfg Config) error {
	per := cfg.Lookback * cfg.Features
	if len(d.X) != len(d.Y)*per {
		return fmt.Errorf("dataset has %d inputs for %d labels, want %d per label", len(d.X), len(d.Y), per)
	}
	return nil
}

// Progress is reported after every batch and every epoch.
type Progress struct {
	Epoch     int     `json:"epoch"` // 1-based
	Epochs    int     `json:"epochs"`
	Batch     int     `json:"batch"` // 1-based, within the epoch
	Batches   int     `json:"batches"`
	BatchLoss float64 `json:"batch_loss"`
	EpochDone bool    `json:"epoch_done"`
	TrainLoss float64 `json:"train_loss"` // mean over the epoch, set when EpochDone
	ValLoss   float64 `json:"val_loss"`   // set when EpochDone and a validation set is given
}

// EpochLoss is one point of the learning curve.
type EpochLoss struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss"`
}

// Fit trains with Adam on MSE over mini-batches shuffled from the seed.
// report (optional) is called after every batch; an error from it, or ctx
// being done, stops training within one batch.
func (m *LSTM) Fit(ctx context.Context, train, val Dataset, p TrainParams, report func(Progress) error) ([]EpochLoss, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("train params: %w", err)
	}
	if err := train.check(m.cfg); err != nil {
		return nil, fmt.Errorf("train set: %w", err)
	}
	if train.Len() == 0 {
		return nil, fmt.Errorf("train set is empty")
	}
	if err := val.check(m.cfg); err != nil {
		return nil, fmt.Errorf("validation set: %w", err)
	}
	opt, err := nn.DefaultAdamConfig().Build(m.vs, p.LearningRate)
	if err != nil {
		return nil, fmt.Errorf("build adam: %w", err)
	}
	rng := rand.New(rand.NewSource(m.cfg.Seed + 1))
	batches := (train.Len() + p.BatchSize - 1) / p.BatchSize
	curve := make([]EpochLoss, 0, p.Epochs)
	for epoch := 1; epoch <= p.Epochs; epoch++ {
		order := rng.Perm(train.Len())
		sum := 0.0
		for b := 0; b < batches; b++ {
			if err := ctx.Err(); err != nil {
				return curve, fmt.Errorf("training stopped at epoch %d batch %d: %w", epoch, b+1, err)
			}
			idx := order[b*p.BatchSize : min((b+1)*p.BatchSize, len(order))]
			loss, err := m.step(opt, train, idx)
			if err != nil {
				return curve, fmt.Errorf("epoch %d batch %d: %w", epoch, b+1, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return curve, fmt.Errorf("epoch %d batch %d: loss is %v (diverged; lower the learning rate)", epoch, b+1, loss)
			}
			sum += loss * float64(len(idx))
			if report != nil {
				if err := report(Progress{Epoch: epoch, Epochs: p.Epochs, Batch: b + 1, Batches: batches, BatchLoss: loss}); err != nil {
					return curve, err
				}
			}
		}
		point := EpochLoss{Epoch: epoch, TrainLoss: sum / float64(train.Len()), ValLoss: math.NaN()}
		if val.Len() > 0 {
			if point.ValLoss, err = m.Loss(val); err != nil {
				return curve, fmt.Errorf("epoch %d validation: %w", epoch, err)
			}
		}
		curve = append(curve, point)
		if report != nil {
			err := report(Progress{Epoch: epoch, Epochs: p.Epochs, Batch: batches, Batches: batches,
				EpochDone: true, TrainLoss: point.TrainLoss, ValLoss: point.ValLoss})
			if err != nil {
				return curve, err
			}
		}
	}
	return curve, nil
}

// step runs forward, backward and one Adam update on the rows idx.
func (m *LSTM) step(opt *nn.Optimizer, d Dataset, idx []int) (float64, error) {
	x, y, err := m.batchTensors(d, idx)
	if err != nil {
		return 0, err
	}
	defer free(x, y)
	pred, err := m.forward(x, int64(len(idx)), true)
	if err != nil {
		return 0, err
	}
	loss, err := pred.MseLoss(y, 1, true) // 1 = mean reduction
	if err != nil {
		return 0, fmt.Errorf("mse: %w", err)
	}
	defer free(loss)
	if err := opt.ZeroGrad(); err != nil {
		return 0, fmt.Errorf("zero grad: %w", err)
	}
	if err := loss.Backward(); err != nil {
		return 0, fmt.Errorf("backward: %w", err)
	}
	if err := opt.Step(); err != nil {
		return 0, fmt.Errorf("adam step: %w", err)
	}
	v, err := loss.Float64Value([]int64{})
	if err != nil {
		return 0, fmt.Errorf("read loss: %w", err)
	}
	return v, nil
}

// batchTensors gathers rows idx of d into tensors x [B, T, F] and y [B].
func (m *LSTM) batchTensors(d Dataset, idx []int) (*ts.Tensor, *ts.Tensor, error) {
	per := m.cfg.Lookback * m.cfg.Features
	xs := make([]float32, 0, len(idx)*per)
	ys := make([]float32, 0, len(idx))
	for _, i := range idx {
		xs = append(xs, d.X[i*per:(i+1)*per]...)
		ys = append(ys, d.Y[i])
	}
	x, err := tensorOn(xs, []int64{int64(len(idx)), int64(m.cfg.Lookback), int64(m.cfg.Features)}, m.device)
	if err != nil {
		return nil, nil, fmt.Errorf("batch inputs: %w", err)
	}
	y, err := tensorOn(ys, []int64{int64(len(idx))}, m.device)
	if err != nil {
		free(x)
		return nil, nil, fmt.Errorf("batch labels: %w", err)
	}
	return x, y, nil
}
