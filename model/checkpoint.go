package model

import (
	"fmt"

	"github.com/finsight/finsight/model/arch"
)

const checkpointMagic = "FINSIGHT-LSTM-CHECKPOINT/1\n"

// Checkpoint is everything training needs to continue exactly where it
// stopped: weights, Adam's moments and step, the learning rate after decay,
// the curve so far and early-stopping state (with the best weights).
type Checkpoint struct {
	Config    arch.Config `json:"config"`
	Epoch     int         `json:"epoch"` // epochs completed
	Step      int64       `json:"step"`  // Adam steps taken
	LR        float64     `json:"lr"`
	Curve     []EpochLoss `json:"curve"`
	BestEpoch int         `json:"best_epoch"` // 0 = none yet
	BestLoss  float64     `json:"best_loss"`
	BadEpochs int         `json:"bad_epochs"` // epochs since the best one
	Stopped   bool        `json:"stopped"`    // early stopping fired
	// A checkpoint written when the worker stopped mid-epoch (FitOptions.Stop)
	// also holds how far into epoch Epoch+1 it got: the batches done and
	// their summed loss and gradient norm. Resuming continues from the
	// next batch of that epoch's (seeded) order.
	Batch       int     `json:"batch,omitempty"`
	PartialLoss float64 `json:"partial_loss,omitempty"`
	PartialNorm float64 `json:"partial_norm,omitempty"`

	weights, adamM, adamV, best map[string][]float32
}

// Ahead reports whether c is further into training than other.
func (c *Checkpoint) Ahead(other *Checkpoint) bool {
	if c.Epoch != other.Epoch {
		return c.Epoch > other.Epoch
	}
	return c.Batch > other.Batch
}

// Marshal encodes the checkpoint.
func (c *Checkpoint) Marshal(names []string) ([]byte, error) {
	var order []string
	blocks := map[string][]float32{}
	for _, part := range []struct {
		prefix string
		vals   map[string][]float32
	}{{"w/", c.weights}, {"m/", c.adamM}, {"v/", c.adamV}, {"best/", c.best}} {
		if part.vals == nil {
			continue
		}
		for _, n := range names {
			order = append(order, part.prefix+n)
			blocks[part.prefix+n] = part.vals[n]
		}
	}
	b, err := writeTensorFile(checkpointMagic, c, order, blocks)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return b, nil
}

// UnmarshalCheckpoint decodes a checkpoint written by Marshal.
func UnmarshalCheckpoint(data []byte) (*Checkpoint, error) {
	c := &Checkpoint{}
	names, blocks, err := readTensorFile(data, checkpointMagic, c)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	for _, full := range names {
		for prefix, dst := range map[string]*map[string][]float32{"w/": &c.weights, "m/": &c.adamM, "v/": &c.adamV, "best/": &c.best} {
			if len(full) > len(prefix) && full[:len(prefix)] == prefix {
				if *dst == nil {
					*dst = map[string][]float32{}
				}
				(*dst)[full[len(prefix):]] = blocks[full]
			}
		}
	}
	if c.weights == nil || c.adamM == nil || c.adamV == nil {
		return nil, fmt.Errorf("checkpoint: weights or optimizer state missing")
	}
	return c, nil
}
