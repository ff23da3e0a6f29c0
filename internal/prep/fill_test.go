package prep_test

import (
	"math"
	"testing"

	"github.com/finsight/finsight/internal/prep"
)

func TestForwardFillTakesPreviousRowValue(t *testing.T) {
	b := seqBars(4)
	b.Open[1], b.Open[2] = nan, nan // a two-day gap in one column
	b.Volume[3] = nan               // and one in another
	out, carry, rep := prep.ForwardFill(b, nil)
	if want := []float64{1, 1, 1, 4}; !sameFloats(out.Open, want) {
		t.Errorf("open = %v, want %v", out.Open, want)
	}
	if want := []float64{1000, 2000, 3000, 3000}; !sameFloats(out.Volume, want) {
		t.Errorf("volume = %v, want %v", out.Volume, want)
	}
	if rep != (prep.FillReport{Filled: 3, DroppedLead: 0}) {
		t.Errorf("report = %+v, want 3 filled, 0 dropped", rep)
	}
	// The carry is the last known value of each column, in column order.
	if want := []float64{4, 4.5, 3.5, 4.25, 4.2, 3000}; !sameFloats(carry, want) {
		t.Errorf("carry = %v, want %v", carry, want)
	}
}

func TestForwardFillLeavesInputUntouched(t *testing.T) {
	b := seqBars(3)
	b.Close[1] = nan
	prep.ForwardFill(b, nil)
	if !math.IsNaN(b.Close[1]) {
		t.Fatalf("input close[1] = %v after filling, want it still NaN", b.Close[1])
	}
}

func TestForwardFillUsesCarryForLeadingGap(t *testing.T) {
	b := seqBars(3)
	b.Open[0], b.High[0] = nan, nan
	carry := []float64{0.7, 0.9, 0.1, 0.8, 0.8, 500}
	out, _, rep := prep.ForwardFill(b, carry)
	if out.Len() != 3 {
		t.Fatalf("%d rows, want all 3 kept", out.Len())
	}
	if out.Open[0] != 0.7 || out.High[0] != 0.9 {
		t.Errorf("row 0 open %v high %v, want the carried 0.7 and 0.9", out.Open[0], out.High[0])
	}
	if rep != (prep.FillReport{Filled: 2}) {
		t.Errorf("report = %+v, want 2 filled, 0 dropped", rep)
	}
}

func TestForwardFillDropsLeadingRowsWithNothingToFillFrom(t *testing.T) {
	b := seqBars(5)
	b.Open[0], b.Open[1] = nan, nan // nothing earlier: dropped
	b.Open[3] = nan                 // filled from row 2
	out, _, rep := prep.ForwardFill(b, nil)
	if rep != (prep.FillReport{Filled: 1, DroppedLead: 2}) {
		t.Errorf("report = %+v, want 1 filled, 2 dropped", rep)
	}
	if out.Len() != 3 {
		t.Fatalf("%d rows, want 3", out.Len())
	}
	if want := []float64{3, 3, 5}; !sameFloats(out.Open, want) {
		t.Errorf("open = %v, want %v", out.Open, want)
	}
	if want := []float64{3.5, 4.5, 5.5}; !sameFloats(out.High, want) {
		t.Errorf("high = %v, want %v (rows kept aligned)", out.High, want)
	}
	if !out.Date[0].Equal(b.Date[2]) {
		t.Errorf("first date %v, want %v", out.Date[0], b.Date[2])
	}
}

func TestForwardFillCarriesAcrossSplits(t *testing.T) {
	train := seqBars(3)
	val := seqBars(2)
	val.Open[0], val.Open[1] = nan, nan
	_, carry, _ := prep.ForwardFill(train, nil)
	out, _, rep := prep.ForwardFill(val, carry)
	if want := []float64{3, 3}; !sameFloats(out.Open, want) {
		t.Errorf("val open = %v, want the train's last open twice %v", out.Open, want)
	}
	if rep.Filled != 2 || rep.DroppedLead != 0 {
		t.Errorf("report = %+v, want 2 filled, 0 dropped", rep)
	}
}
