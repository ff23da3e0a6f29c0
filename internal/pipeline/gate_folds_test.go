package pipeline

import "testing"

// The backtest gate's folds are checked with the gate: a count below 1,
// or folds without the backtest gate, are refused before the run starts.
func TestCheckOptionsBacktestFolds(t *testing.T) {
	for _, tc := range []struct {
		gate  string
		folds int
		ok    bool
	}{
		{GateBacktest, 0, true}, {GateBacktest, 3, true}, {"", 0, true},
		{GateBacktest, -1, false}, {"", 3, false}, {GateSplit, 3, false},
	} {
		err := TrainingInput{Gate: tc.gate, BacktestFolds: tc.folds}.CheckOptions()
		if (err == nil) != tc.ok {
			t.Errorf("gate %q, %d folds: error %v, want ok %v", tc.gate, tc.folds, err, tc.ok)
		}
	}
}
