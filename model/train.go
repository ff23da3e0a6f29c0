package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"

	"github.com/finsight/finsight/model/arch"
	"github.com/sugarme/gotch/ts"
)

// ErrDiverged is wrapped by Fit's error when a batch loss is NaN or
// infinite. Training is deterministic (seeded), so a retry with the same
// data and parameters diverges again.
var ErrDiverged = errors.New("loss diverged")

// ErrStopped is returned by Fit when FitOptions.Stop closed: training
// stopped between two batches after handing OnStop a checkpoint.
var ErrStopped = errors.New("training stopped for a shutdown")

// Dataset is a set of windows: X is row-major [N][Lookback][Features].
type Dataset struct {
	X []float32
	Y []float32
}

// Len is the number of windows.
func (d Dataset) Len() int { return len(d.Y) }

func (d Dataset) check(cfg arch.Config) error {
	per := cfg.Lookback * cfg.Features
	if len(d.X) != len(d.Y)*per {
		return fmt.Errorf("dataset has %d inputs for %d labels, want %d per label", len(d.X), len(d.Y), per)
	}
	return nil
}

// Progress is reported after every batch.
type Progress struct {
	Epoch     int     `json:"epoch"` // 1-based
	Epochs    int     `json:"epochs"`
	Batch     int     `json:"batch"` // 1-based, within the epoch
	Batches   int     `json:"batches"`
	BatchLoss float64 `json:"batch_loss"`
	LastTrain float64 `json:"last_train_loss"` // of the last finished epoch
	LastVal   float64 `json:"last_val_loss"`
}

// EpochLoss is one point of the learning curve.
type EpochLoss struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss"`
	LR        float64 `json:"lr"`
	GradNorm  float64 `json:"grad_norm"` // mean global norm before clipping (0 when not clipping)
}

// FitOptions configure a training run.
type FitOptions struct {
	TrainParams
	// Resume continues from a checkpoint of the same model and data.
	Resume *Checkpoint
	// OnBatch (optional) is called after every batch; an error stops training.
	OnBatch func(Progress) error
	// Stop (optional): when it is closed, training stops after the batch
	// in progress, hands OnStop a checkpoint of where it got (mid-epoch),
	// and Fit returns ErrStopped. A worker that is shutting down closes it.
	Stop   <-chan struct{}
	OnStop func(*Checkpoint) error
	// OnEpoch (optional) is called after every epoch with a checkpoint to
	// persist; an error stops training.
	OnEpoch func(*Checkpoint) error
}

// FitResult says how training went.
type FitResult struct {
	Curve        []EpochLoss `json:"curve"`
	BestEpoch    int         `json:"best_epoch"` // weights now hold this epoch's (0 = the last, no validation)
	StoppedEarly bool        `json:"stopped_early"`
}

// Fit trains with Adam on MSE over mini-batches. The batch order of epoch e
// and the dropout masks depend only on the seed and e, so a run resumed from
// a checkpoint continues exactly as an uninterrupted one would. With a
// validation set, the best epoch's weights are restored at the end, and
// training stops after Patience epochs without improvement (0 = never).
// Cancelling ctx stops training within one batch.
func (m *LSTM) Fit(ctx context.Context, train, val Dataset, o FitOptions) (FitResult, error) {
	p := o.TrainParams
	if err := p.Validate(); err != nil {
		return FitResult{}, fmt.Errorf("train params: %w", err)
	}
	if err := train.check(m.cfg); err != nil {
		return FitResult{}, fmt.Errorf("train set: %w", err)
	}
	if train.Len() == 0 {
		return FitResult{}, fmt.Errorf("train set is empty")
	}
	if err := val.check(m.cfg); err != nil {
		return FitResult{}, fmt.Errorf("validation set: %w", err)
	}
	opt, err := newAdam(m.all, m.total, p.LearningRate, m.device)
	if err != nil {
		return FitResult{}, err
	}
	defer opt.free()
	st := &Checkpoint{Config: m.cfg, LR: p.LearningRate, BestLoss: math.Inf(1)}
	if o.Resume != nil {
		if st, err = m.restore(opt, o.Resume); err != nil {
			return FitResult{}, fmt.Errorf("resume: %w", err)
		}
	}
	batches := (train.Len() + p.BatchSize - 1) / p.BatchSize
	for epoch := st.Epoch + 1; epoch <= p.Epochs && !st.Stopped; epoch++ {
		opt.lr = st.LR
		point, err := m.runEpoch(ctx, opt, train, p, epoch, batches, st, o)
		if errors.Is(err, ErrStopped) && o.OnStop != nil {
			if serr := o.OnStop(st); serr != nil {
				return FitResult{Curve: st.Curve}, fmt.Errorf("%w (and its checkpoint failed: %v)", err, serr)
			}
		}
		if err != nil {
			return FitResult{Curve: st.Curve}, err
		}
		if val.Len() > 0 {
			if point.ValLoss, err = m.Loss(val); err != nil {
				return FitResult{Curve: st.Curve}, fmt.Errorf("epoch %d validation: %w", epoch, err)
			}
		}
		if err := m.endEpoch(st, opt, point, p); err != nil {
			return FitResult{Curve: st.Curve}, err
		}
		if o.OnEpoch != nil {
			if err := o.OnEpoch(st); err != nil {
				return FitResult{Curve: st.Curve}, err
			}
		}
	}
	res := FitResult{Curve: st.Curve, StoppedEarly: st.Stopped}
	if st.best != nil {
		if err := m.setValues(st.best); err != nil {
			return res, fmt.Errorf("restore best weights: %w", err)
		}
		res.BestEpoch = st.BestEpoch
	}
	return res, nil
}

// runEpoch trains one epoch and returns its curve point (without val loss).
// It starts after the batches a mid-epoch checkpoint in st already did, and
// when o.Stop closes it snapshots st mid-epoch and returns ErrStopped.
func (m *LSTM) runEpoch(ctx context.Context, opt *adam, train Dataset, p TrainParams, epoch, batches int, st *Checkpoint, o FitOptions) (EpochLoss, error) {
	order := rand.New(rand.NewSource(m.cfg.Seed*1_000_003 + int64(epoch))).Perm(train.Len())
	first, sum, normSum := st.Batch, st.PartialLoss, st.PartialNorm
	// The dropout stream of a resumed epoch starts at its batch: an
	// interrupted epoch is seeded, though not bit-identical to one run
	// straight through when dropout is on.
	seedTorch(m.cfg.Seed*7_919 + int64(epoch) + int64(first)*104_729)
	last := EpochLoss{TrainLoss: math.NaN(), ValLoss: math.NaN()}
	if n := len(st.Curve); n > 0 {
		last = st.Curve[n-1]
	}
	for b := first; b < batches; b++ {
		if err := ctx.Err(); err != nil {
			return EpochLoss{}, fmt.Errorf("training stopped at epoch %d batch %d: %w", epoch, b+1, err)
		}
		if stopping(o.Stop) && b > first {
			st.Batch, st.PartialLoss, st.PartialNorm = b, sum, normSum
			if err := m.snapshot(st, opt); err != nil {
				return EpochLoss{}, err
			}
			return EpochLoss{}, fmt.Errorf("epoch %d after batch %d of %d: %w", epoch, b, batches, ErrStopped)
		}
		idx := order[b*p.BatchSize : min((b+1)*p.BatchSize, len(order))]
		loss, norm, err := m.step(opt, train, idx, p.ClipNorm)
		if err != nil {
			return EpochLoss{}, fmt.Errorf("epoch %d batch %d: %w", epoch, b+1, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return EpochLoss{}, fmt.Errorf("epoch %d batch %d: loss is %v: %w (lower the learning rate)", epoch, b+1, loss, ErrDiverged)
		}
		sum += loss * float64(len(idx))
		normSum += norm
		if o.OnBatch != nil {
			pr := Progress{Epoch: epoch, Epochs: p.Epochs, Batch: b + 1, Batches: batches, BatchLoss: loss,
				LastTrain: last.TrainLoss, LastVal: last.ValLoss}
			if err := o.OnBatch(pr); err != nil {
				return EpochLoss{}, err
			}
		}
	}
	st.Batch, st.PartialLoss, st.PartialNorm = 0, 0, 0
	return EpochLoss{Epoch: epoch, TrainLoss: sum / float64(train.Len()), ValLoss: math.NaN(),
		LR: st.LR, GradNorm: normSum / float64(batches)}, nil
}

// stopping reports whether stop is closed (never, for nil).
func stopping(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// endEpoch records the epoch, tracks the best weights and patience, decays
// the learning rate and snapshots the state into st.
func (m *LSTM) endEpoch(st *Checkpoint, opt *adam, point EpochLoss, p TrainParams) error {
	st.Curve = append(st.Curve, point)
	st.Epoch = point.Epoch
	var err error
	if !math.IsNaN(point.ValLoss) {
		if point.ValLoss < st.BestLoss-p.MinDelta {
			st.BestLoss, st.BestEpoch, st.BadEpochs = point.ValLoss, point.Epoch, 0
			if st.best, err = m.values(); err != nil {
				return fmt.Errorf("snapshot best weights: %w", err)
			}
		} else {
			st.BadEpochs++
			st.Stopped = p.Patience > 0 && st.BadEpochs >= p.Patience
		}
	}
	if p.LRDecay > 0 && p.LRDecay < 1 {
		st.LR *= p.LRDecay
	}
	return m.snapshot(st, opt)
}

// snapshot copies the weights and the optimizer's state into st.
func (m *LSTM) snapshot(st *Checkpoint, opt *adam) error {
	var err error
	st.Step = opt.step
	if st.weights, err = m.values(); err != nil {
		return fmt.Errorf("snapshot weights: %w", err)
	}
	if st.adamM, err = m.readFlat(opt.m); err != nil {
		return fmt.Errorf("snapshot adam: %w", err)
	}
	if st.adamV, err = m.readFlat(opt.v); err != nil {
		return fmt.Errorf("snapshot adam: %w", err)
	}
	return nil
}

// restore loads a checkpoint's weights and optimizer state.
func (m *LSTM) restore(opt *adam, c *Checkpoint) (*Checkpoint, error) {
	if !c.Config.SameShape(m.cfg) {
		return nil, fmt.Errorf("checkpoint is for %s, model is %s", c.Config.Describe(), m.cfg.Describe())
	}
	if err := m.setValues(c.weights); err != nil {
		return nil, err
	}
	if err := m.writeFlat(opt.m, c.adamM); err != nil {
		return nil, err
	}
	if err := m.writeFlat(opt.v, c.adamV); err != nil {
		return nil, err
	}
	opt.step = c.Step
	return c, nil
}

// step runs forward, backward, optional clipping and one Adam update on
// rows idx; it returns the batch loss and the gradient norm.
func (m *LSTM) step(opt *adam, d Dataset, idx []int, clipNorm float64) (float64, float64, error) {
	x, y, err := m.batchTensors(d, idx)
	if err != nil {
		return 0, 0, err
	}
	defer free(x, y)
	pred, err := m.forward(x, int64(len(idx)), true)
	if err != nil {
		return 0, 0, err
	}
	loss, err := pred.MseLoss(y, 1, true) // 1 = mean reduction
	if err != nil {
		return 0, 0, fmt.Errorf("mse: %w", err)
	}
	defer free(loss)
	g, err := opt.gradient(loss)
	if err != nil {
		return 0, 0, err
	}
	g, norm, err := clip(g, clipNorm)
	if err != nil {
		free(g)
		return 0, 0, err
	}
	err = opt.update(g)
	free(g)
	if err != nil {
		return 0, 0, err
	}
	v, err := loss.Float64Value([]int64{})
	if err != nil {
		return 0, 0, fmt.Errorf("read loss: %w", err)
	}
	return v, norm, nil
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
