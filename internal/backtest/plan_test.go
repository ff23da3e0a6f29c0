package backtest_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/backtest"
)

type r = backtest.Range

func TestPlanBoundaries(t *testing.T) {
	tests := []struct {
		name string
		spec backtest.Spec
		rows int
		// want lists, per fold, train, validation, test, validation input
		// and test input, worked out by hand from the definitions.
		want [][5]r
	}{
		{
			// Defaults: test blocks of 100/(4+1) = 20 rows at the end, step
			// 20, so the first test block starts at 100 − 20 − 3·20 = 20.
			// Validation is ⌊history/8⌋: 2, 5, 7 (of 60), 10. Windows of
			// 5 rows + horizon 1 read 5 rows before each block.
			name: "expanding defaults",
			spec: backtest.Spec{Folds: 4, Lookback: 5},
			rows: 100,
			want: [][5]r{
				{{0, 18}, {18, 20}, {20, 40}, {13, 20}, {15, 40}},
				{{0, 35}, {35, 40}, {40, 60}, {30, 40}, {35, 60}},
				{{0, 53}, {53, 60}, {60, 80}, {48, 60}, {55, 80}},
				{{0, 70}, {70, 80}, {80, 100}, {65, 80}, {75, 100}},
			},
		},
		{
			// Blocks of 10 every 15 rows end at 100: starts 60, 75, 90.
			// Each fold keeps the 30 rows before its block, 4 of them for
			// validation; windows of 3 rows read 3 rows before a block.
			name: "sliding with gaps between blocks",
			spec: backtest.Spec{Folds: 3, Mode: backtest.Sliding, TestLen: 10, Step: 15, TrainLen: 30, Lookback: 3, ValLen: 4},
			rows: 100,
			want: [][5]r{
				{{30, 56}, {56, 60}, {60, 70}, {53, 60}, {57, 70}},
				{{45, 71}, {71, 75}, {75, 85}, {68, 75}, {72, 85}},
				{{60, 86}, {86, 90}, {90, 100}, {83, 90}, {87, 100}},
			},
		},
		{
			// Sliding with no train_len keeps the first fold's 30 rows of
			// history in every fold; validation is ⌊30·0.2⌋ = 6.
			name: "sliding default history length",
			spec: backtest.Spec{Folds: 2, Mode: backtest.Sliding, TestLen: 10, Lookback: 2, ValFraction: 0.2},
			rows: 50,
			want: [][5]r{
				{{0, 24}, {24, 30}, {30, 40}, {22, 30}, {28, 40}},
				{{10, 34}, {34, 40}, {40, 50}, {32, 40}, {38, 50}},
			},
		},
		{
			// Horizon 3: a window ending at row e targets e+3, so the first
			// target of a block at 32 needs rows 26..29: input starts at
			// 32 − 4 − 3 + 1 = 26.
			name: "horizon beyond one day",
			spec: backtest.Spec{Folds: 1, TestLen: 8, Lookback: 4, Horizon: 3, ValLen: 5},
			rows: 40,
			want: [][5]r{
				{{0, 27}, {27, 32}, {32, 40}, {21, 32}, {26, 40}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			folds, err := tc.spec.Plan(tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			if len(folds) != len(tc.want) {
				t.Fatalf("%d folds, want %d: %+v", len(folds), len(tc.want), folds)
			}
			for k, f := range folds {
				got := [5]r{f.Train, f.Validation, f.Test, f.ValidationInput, f.TestInput}
				if got != tc.want[k] || f.Index != k {
					t.Errorf("fold %d: got %+v (index %d), want %+v", k, got, f.Index, tc.want[k])
				}
			}
		})
	}
}

func TestPlanRefusesImpossiblePlans(t *testing.T) {
	tests := []struct {
		name string
		spec backtest.Spec
		rows int
		want string // part of the error, so the reason is the right one
	}{
		{"no folds", backtest.Spec{Folds: 0, Lookback: 5}, 100, "folds must be at least 1"},
		{"unknown mode", backtest.Spec{Folds: 2, Mode: "rolling", Lookback: 5}, 100, "mode"},
		{"no lookback", backtest.Spec{Folds: 2}, 100, "lookback"},
		{"negative step", backtest.Spec{Folds: 2, Lookback: 5, Step: -1}, 100, "negative"},
		{"train_len when expanding", backtest.Spec{Folds: 2, Lookback: 5, TrainLen: 40}, 100, "sliding mode only"},
		{"overlapping blocks", backtest.Spec{Folds: 2, Lookback: 5, TestLen: 10, Step: 5}, 100, "overlap"},
		{"default step shorter than block", backtest.Spec{Folds: 2, Lookback: 2, Step: 5}, 100, "overlap"},
		{"both validation sizes", backtest.Spec{Folds: 2, Lookback: 5, ValLen: 5, ValFraction: 0.1}, 100, "not both"},
		{"validation fraction of one", backtest.Spec{Folds: 2, Lookback: 5, ValFraction: 1}, 100, "val_fraction"},
		{"fewer rows than folds", backtest.Spec{Folds: 4, Lookback: 1}, 3, "too few for 4 folds"},
		{"blocks fill the history", backtest.Spec{Folds: 2, Lookback: 1, TestLen: 5}, 10, "no history before the first"},
		{"training shorter than a window", backtest.Spec{Folds: 2, Lookback: 20}, 30, "need at least 21"},
		{"training below min_train", backtest.Spec{Folds: 4, Lookback: 5, MinTrain: 50}, 100, "fold 0: 18 training rows"},
		{"train_len longer than history", backtest.Spec{Folds: 2, Mode: backtest.Sliding, Lookback: 2, TestLen: 10, TrainLen: 90}, 100, "train_len 90"},
		{"no validation row", backtest.Spec{Folds: 1, Lookback: 1, TestLen: 6, ValFraction: 0.1}, 12, "no validation row"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			folds, err := tc.spec.Plan(tc.rows)
			if err == nil {
				t.Fatalf("accepted: %+v", folds)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestPlanInvariantsOnRandomSpecs checks, over many random plans, what
// every plan must satisfy: each fold's parts follow each other in time
// inside the data, test blocks are in order and never overlap, the last
// block ends with the data, and windows read only rows before a block.
func TestPlanInvariantsOnRandomSpecs(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	planned := 0
	for i := 0; i < 5000; i++ {
		s := randomSpec(rng)
		rows := 1 + rng.Intn(600)
		folds, err := s.Plan(rows)
		if err != nil {
			if folds != nil {
				t.Fatalf("%+v on %d rows: error %v with folds %+v", s, rows, err, folds)
			}
			continue
		}
		planned++
		if msg := checkInvariants(s, rows, folds); msg != "" {
			t.Fatalf("%+v on %d rows: %s\nfolds %+v", s, rows, msg, folds)
		}
	}
	// The random specs must mostly be plannable, or the loop proves little.
	if planned < 1000 {
		t.Fatalf("only %d of 5000 random specs could be planned", planned)
	}
}

func randomSpec(rng *rand.Rand) backtest.Spec {
	s := backtest.Spec{
		Folds:    1 + rng.Intn(8),
		Lookback: 1 + rng.Intn(30),
		Horizon:  rng.Intn(4),
		MinTrain: rng.Intn(3) * rng.Intn(60),
	}
	if rng.Intn(2) == 0 {
		s.Mode = backtest.Sliding
		s.TrainLen = rng.Intn(2) * rng.Intn(300)
	}
	if rng.Intn(2) == 0 {
		s.TestLen = 1 + rng.Intn(60)
		s.Step = rng.Intn(2) * (s.TestLen + rng.Intn(20))
	}
	switch rng.Intn(3) {
	case 0:
		s.ValLen = 1 + rng.Intn(40)
	case 1:
		s.ValFraction = rng.Float64() * 0.5
	}
	return s
}

func checkInvariants(s backtest.Spec, rows int, folds []backtest.Fold) string {
	if len(folds) != s.Folds {
		return "wrong number of folds"
	}
	h := max(s.Horizon, 1)
	for k, f := range folds {
		switch {
		case f.Index != k:
			return "fold index out of order"
		case f.Train.Start < 0 || f.Test.End > rows:
			return "a range leaves the data"
		case !(f.Train.Start < f.Train.End && f.Train.End <= f.Validation.Start &&
			f.Validation.Start < f.Validation.End && f.Validation.End <= f.Test.Start && f.Test.Start < f.Test.End):
			return "train, validation and test are not in time order"
		case f.Train.Len() < max(s.MinTrain, s.Lookback+h):
			return "training shorter than the minimum"
		case f.TestInput.End != f.Test.End || f.TestInput.Start != f.Test.Start-s.Lookback-h+1 || f.TestInput.Start < 0:
			return "test input is not the block plus the rows its first window needs"
		case f.ValidationInput.End != f.Validation.End || f.ValidationInput.Start != f.Validation.Start-s.Lookback-h+1 || f.ValidationInput.Start < f.Train.Start:
			return "validation input is not the block plus the rows its first window needs"
		case f.Test.Len() != folds[0].Test.Len():
			return "test blocks of different lengths"
		case s.Mode == backtest.Sliding && f.Test.Start-f.Train.Start != folds[0].Test.Start-folds[0].Train.Start:
			return "sliding histories of different lengths"
		case s.Mode != backtest.Sliding && f.Train.Start != 0:
			return "expanding history does not start at row 0"
		case k > 0 && f.Test.Start < folds[k-1].Test.End:
			return "test blocks overlap or are out of order"
		}
	}
	if folds[len(folds)-1].Test.End != rows {
		return "the last test block does not end with the data"
	}
	return ""
}
