package prep_test

import (
	"testing"

	"github.com/finsight/finsight/internal/prep"
)

func TestSplitRowCounts(t *testing.T) {
	tests := []struct {
		rows                 int
		train, val, testRows int
	}{
		{rows: 10, train: 7, val: 1, testRows: 2},
		// 90*0.7 is 62.99999999999999 in float64: 70% of 90 rows is still 63.
		{rows: 90, train: 63, val: 9, testRows: 18},
		{rows: 100, train: 70, val: 10, testRows: 20},
		{rows: 101, train: 70, val: 10, testRows: 21},
		{rows: 1000, train: 700, val: 100, testRows: 200},
	}
	for _, tc := range tests {
		train, val, test, err := prep.Split(seqBars(tc.rows), prep.DefaultFractions)
		if err != nil {
			t.Fatalf("%d rows: %v", tc.rows, err)
		}
		if train.Len() != tc.train || val.Len() != tc.val || test.Len() != tc.testRows {
			t.Errorf("%d rows split %d/%d/%d, want %d/%d/%d", tc.rows,
				train.Len(), val.Len(), test.Len(), tc.train, tc.val, tc.testRows)
		}
	}
}

func TestSplitKeepsOrderAndPutsEveryRowInOnePart(t *testing.T) {
	b := seqBars(100)
	train, val, test, err := prep.Split(b, prep.DefaultFractions)
	if err != nil {
		t.Fatal(err)
	}
	var open []float64
	for _, part := range []struct {
		name string
		len  int
		open []float64
	}{{"train", train.Len(), train.Open}, {"val", val.Len(), val.Open}, {"test", test.Len(), test.Open}} {
		if len(part.open) != part.len {
			t.Fatalf("%s has %d opens for %d rows", part.name, len(part.open), part.len)
		}
		open = append(open, part.open...)
	}
	if !sameFloats(open, b.Open) {
		t.Fatalf("train+val+test opens = %v, want the input's %v", open, b.Open)
	}
	if !train.Date[train.Len()-1].Before(val.Date[0]) || !val.Date[val.Len()-1].Before(test.Date[0]) {
		t.Fatalf("parts overlap in time: train ends %v, val %v..%v, test starts %v",
			train.Date[train.Len()-1], val.Date[0], val.Date[val.Len()-1], test.Date[0])
	}
	if test.Ticker != "TEST" {
		t.Errorf("ticker = %q, want TEST", test.Ticker)
	}
}

func TestSplitTooFewRowsIsAnError(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5, 9} {
		if _, _, _, err := prep.Split(seqBars(n), prep.DefaultFractions); err == nil {
			t.Errorf("%d rows: no error", n)
		}
	}
}

func TestSplitRejectsBadFractions(t *testing.T) {
	for _, f := range []prep.Fractions{
		{Train: 0.8, Val: 0.1, Test: 0.2},  // sums to 1.1
		{Train: 0.5, Val: 0.1, Test: 0.2},  // sums to 0.8
		{Train: 0.7, Val: 0, Test: 0.3},    // empty validation
		{Train: 1.1, Val: -0.2, Test: 0.1}, // negative
		{},
	} {
		if _, _, _, err := prep.Split(seqBars(100), f); err == nil {
			t.Errorf("fractions %+v: no error", f)
		}
	}
}
