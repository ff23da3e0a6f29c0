// Package backtest plans walk-forward (rolling-origin) evaluation and
// summarises its folds. Each fold trains on the past and is scored on the
// block of rows right after it, so a model is judged on many honest
// out-of-sample periods instead of one lucky or unlucky test split.
//
// Everything here is pure and deterministic: a workflow may call Plan
// directly, and activities slice bars with the ranges it returns.
package backtest

import (
	"fmt"
	"math"
)

// Mode says how a fold's history grows as its test block moves forward.
type Mode string

const (
	// Expanding: every fold's history starts at row 0, so later folds train
	// on more data (the usual way a deployed model is retrained).
	Expanding Mode = "expanding"
	// Sliding: every fold's history has the same length, so folds are
	// comparable and old regimes drop out.
	Sliding Mode = "sliding"
)

// DefaultValFraction is the share of each fold's history kept for
// validation when neither ValLen nor ValFraction is set: the last eighth,
// the same 70:10 ratio of training to validation as the single split.
const DefaultValFraction = 0.125

// Spec chooses the folds. Zero values mean the documented default, so a
// JSON request only names what it changes.
type Spec struct {
	Folds int  `json:"folds"` // K ≥ 1
	Mode  Mode `json:"mode"`  // "" = expanding
	// TestLen is the rows in each test block; 0 = Rows/(Folds+1), so the
	// K blocks sit at the end of the history and the first fold still has
	// at least as much history as one block (scikit-learn's TimeSeriesSplit).
	TestLen int `json:"test_len"`
	// Step is the rows between consecutive test block starts; 0 = TestLen
	// (blocks back to back). A step shorter than a block is refused: days
	// scored twice would be counted twice in the pooled statistics.
	Step int `json:"step"`
	// TrainLen is, in sliding mode, the rows of history (training plus
	// validation) of every fold; 0 = all the history the first fold has.
	TrainLen int `json:"train_len"`
	// MinTrain is the fewest training rows a fold may have (after its
	// validation rows are cut off). A fold always needs Lookback+Horizon
	// training rows, enough for one window.
	MinTrain int `json:"min_train"`
	// Lookback is the model's window in rows: the first forecast of a
	// block reads the Lookback rows before its origin.
	Lookback int `json:"lookback"`
	Horizon  int `json:"horizon"` // rows from a window's last row to its target; 0 = 1
	// ValLen or ValFraction (of the fold's history) sizes the validation
	// rows at the end of each fold's history; set at most one.
	ValLen      int     `json:"val_len"`
	ValFraction float64 `json:"val_fraction"`
}

// Range is the half-open row range [Start, End).
type Range struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Len is the number of rows in r.
func (r Range) Len() int { return r.End - r.Start }

// Contains reports whether row i is in r.
func (r Range) Contains(i int) bool { return i >= r.Start && i < r.End }

// Fold is one training-and-evaluation round. Train, Validation and Test
// follow each other in time; a scaler is fitted on Train only.
type Fold struct {
	Index      int   `json:"index"`
	Train      Range `json:"train"`
	Validation Range `json:"validation"`
	Test       Range `json:"test"`
	// ValidationInput and TestInput are the rows that windows whose
	// targets lie in Validation (resp. Test) read: Lookback+Horizon−1 rows
	// of the past before the block, then the block. Cut windows from these
	// ranges, not from the blocks alone, or each block loses its first
	// Lookback+Horizon−1 targets.
	ValidationInput Range `json:"validation_input"`
	TestInput       Range `json:"test_input"`
}

// Validate checks the parameters that do not depend on the data's length,
// so a bad request can be refused before anything runs.
func (s Spec) Validate() error {
	switch {
	case s.Folds < 1:
		return fmt.Errorf("backtest: folds must be at least 1, got %d", s.Folds)
	case s.Mode != "" && s.Mode != Expanding && s.Mode != Sliding:
		return fmt.Errorf("backtest: mode %q: want expanding or sliding", s.Mode)
	case s.TrainLen != 0 && s.mode() != Sliding:
		return fmt.Errorf("backtest: train_len %d applies to sliding mode only", s.TrainLen)
	case s.Lookback < 1:
		return fmt.Errorf("backtest: lookback must be at least 1, got %d", s.Lookback)
	case s.TestLen < 0 || s.Step < 0 || s.TrainLen < 0 || s.MinTrain < 0 || s.Horizon < 0 || s.ValLen < 0:
		return fmt.Errorf("backtest: lengths must not be negative: test_len %d, step %d, train_len %d, min_train %d, horizon %d, val_len %d",
			s.TestLen, s.Step, s.TrainLen, s.MinTrain, s.Horizon, s.ValLen)
	case s.Step != 0 && s.TestLen != 0 && s.Step < s.TestLen:
		return fmt.Errorf("backtest: step %d is shorter than test_len %d: test blocks would overlap", s.Step, s.TestLen)
	case math.IsNaN(s.ValFraction) || s.ValFraction < 0 || s.ValFraction >= 1:
		return fmt.Errorf("backtest: val_fraction must be in [0, 1), got %g", s.ValFraction)
	case s.ValLen > 0 && s.ValFraction > 0:
		return fmt.Errorf("backtest: set val_len (%d) or val_fraction (%g), not both", s.ValLen, s.ValFraction)
	}
	return nil
}

func (s Spec) mode() Mode {
	if s.Mode == "" {
		return Expanding
	}
	return s.Mode
}

func (s Spec) horizon() int { return max(s.Horizon, 1) }

// Plan cuts rows (oldest first) into folds, in time order. It fails,
// saying which limit was hit, when the rows cannot hold the plan.
func (s Spec) Plan(rows int) ([]Fold, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	testLen, step, err := s.blocks(rows)
	if err != nil {
		return nil, err
	}
	firstStart := rows - testLen - (s.Folds-1)*step
	if firstStart < 1 {
		return nil, fmt.Errorf("backtest: %d rows are too few for %d test blocks of %d rows every %d rows: no history before the first",
			rows, s.Folds, testLen, step)
	}
	histLen := firstStart
	if s.mode() == Sliding && s.TrainLen > 0 {
		if s.TrainLen > firstStart {
			return nil, fmt.Errorf("backtest: train_len %d is longer than the %d rows before the first test block", s.TrainLen, firstStart)
		}
		histLen = s.TrainLen
	}
	folds := make([]Fold, s.Folds)
	for k := range folds {
		testStart := firstStart + k*step
		hist := Range{Start: 0, End: testStart}
		if s.mode() == Sliding {
			hist.Start = testStart - histLen
		}
		f, err := s.fold(k, hist, Range{Start: testStart, End: testStart + testLen})
		if err != nil {
			return nil, err
		}
		folds[k] = f
	}
	return folds, nil
}

// blocks resolves the default test block length and step.
func (s Spec) blocks(rows int) (testLen, step int, err error) {
	testLen = s.TestLen
	if testLen == 0 {
		testLen = rows / (s.Folds + 1)
	}
	if testLen < 1 {
		return 0, 0, fmt.Errorf("backtest: %d rows are too few for %d folds", rows, s.Folds)
	}
	step = s.Step
	if step == 0 {
		step = testLen
	}
	if step < testLen {
		return 0, 0, fmt.Errorf("backtest: step %d is shorter than test_len %d: test blocks would overlap", step, testLen)
	}
	return testLen, step, nil
}

// fold splits one fold's history into training and validation and checks
// that both are usable.
func (s Spec) fold(k int, hist, test Range) (Fold, error) {
	valLen := s.ValLen
	if valLen == 0 {
		frac := s.ValFraction
		if frac == 0 {
			frac = DefaultValFraction
		}
		// The small tolerance keeps 80 rows × 0.125 at 10, not 9, despite
		// float error (as prep.Split does).
		valLen = int(float64(hist.Len())*frac + 1e-9)
	}
	if valLen < 1 {
		return Fold{}, fmt.Errorf("backtest: fold %d: %d rows of history leave no validation row", k, hist.Len())
	}
	window := s.Lookback + s.horizon()
	need := max(s.MinTrain, window)
	train := Range{Start: hist.Start, End: hist.End - valLen}
	if train.Len() < need {
		return Fold{}, fmt.Errorf("backtest: fold %d: %d training rows (of %d history rows, %d kept for validation), need at least %d (min_train %d, lookback %d + horizon %d)",
			k, max(train.Len(), 0), hist.Len(), valLen, need, s.MinTrain, s.Lookback, s.horizon())
	}
	val := Range{Start: train.End, End: hist.End}
	return Fold{
		Index:           k,
		Train:           train,
		Validation:      val,
		Test:            test,
		ValidationInput: Range{Start: val.Start - window + 1, End: val.End},
		TestInput:       Range{Start: test.Start - window + 1, End: test.End},
	}, nil
}
