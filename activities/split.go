package activities

import (
	"context"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

// SplitInput is the raw data and the chronological shares.
type SplitInput struct {
	Raw       blob.Ref       `json:"raw"`
	Fractions prep.Fractions `json:"fractions"`
	// Tail, when set, splits for a retrain instead: the newest part of the
	// new rows is the test (Fractions are not used).
	Tail *prep.TailSplit `json:"tail,omitempty"`
}

// Splits references train, validation and test, in time order.
type Splits struct {
	Train blob.Ref `json:"train"`
	Val   blob.Ref `json:"val"`
	Test  blob.Ref `json:"test"`
}

var splitNames = [3]string{"train", "val", "test"}

func (s *Splits) parts() [3]*blob.Ref { return [3]*blob.Ref{&s.Train, &s.Val, &s.Test} }

// Split cuts the raw bars chronologically (70/10/20 by default).
func (a *Activities) Split(ctx context.Context, in SplitInput) (Splits, error) {
	if err := in.Fractions.Validate(); err != nil && in.Tail == nil {
		return Splits{}, invalid(ErrInvalidParams, err, "%v", err)
	}
	bars, err := a.readBars(ctx, in.Raw)
	if err != nil {
		return Splits{}, err
	}
	var train, val, test *frame.Bars
	if in.Tail != nil {
		train, val, test, err = prep.SplitTail(bars, *in.Tail)
	} else {
		train, val, test, err = prep.Split(bars, in.Fractions)
	}
	if err != nil {
		return Splits{}, invalid(ErrInvalidData, err, "split %s: %v", in.Raw.Key, err)
	}
	var out Splits
	for i, part := range [3]*frame.Bars{train, val, test} {
		ref, err := a.writeBars(ctx, "split", partKey{Inputs: in, Part: i}, part)
		if err != nil {
			return Splits{}, err
		}
		*out.parts()[i] = ref
	}
	return out, nil
}

// partKey names one of several outputs computed from the same inputs.
type partKey struct {
	Inputs any `json:"inputs"`
	Part   int `json:"part"`
}
