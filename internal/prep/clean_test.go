package prep_test

import (
	"math"
	"slices"
	"testing"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

func TestFillMissingFFillIsForwardFill(t *testing.T) {
	tests := []struct {
		name  string
		plant func(b *frame.Bars)
		carry []float64
	}{
		{name: "nothing missing", plant: func(*frame.Bars) {}},
		{name: "interior gaps", plant: func(b *frame.Bars) { b.Open[2], b.Open[3], b.Volume[4] = nan, nan, nan }},
		{name: "leading gap dropped", plant: func(b *frame.Bars) { b.Close[0], b.Close[1] = nan, nan }},
		{name: "leading gap carried", plant: func(b *frame.Bars) { b.Close[0] = nan },
			carry: []float64{9, 9, 9, 9, 9, 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := seqBars(6)
			tc.plant(b)
			want, wantCarry, fr := prep.ForwardFill(b, tc.carry)
			got, gotCarry, rep, err := prep.FillMissing(b, tc.carry, prep.MissingFFill)
			if err != nil {
				t.Fatal(err)
			}
			for c, col := range [][2][]float64{{got.Open, want.Open}, {got.High, want.High}, {got.Low, want.Low},
				{got.Close, want.Close}, {got.AdjClose, want.AdjClose}, {got.Volume, want.Volume}} {
				if !sameFloats(col[0], col[1]) {
					t.Errorf("column %d = %v, ForwardFill gives %v", c, col[0], col[1])
				}
			}
			if !sameFloats(gotCarry, wantCarry) {
				t.Errorf("carry = %v, ForwardFill gives %v", gotCarry, wantCarry)
			}
			if rep.Filled != fr.Filled || rep.DroppedRows != fr.DroppedLead || rep.Interpolated != 0 {
				t.Errorf("report %+v, ForwardFill reported %+v", rep, fr)
			}
		})
	}
}

func TestFillMissingInterpolate(t *testing.T) {
	tests := []struct {
		name      string
		plant     func(b *frame.Bars)
		carry     []float64
		wantOpen  []float64
		wantClose []float64
		wantRep   prep.CleanReport
	}{
		{
			name:      "interior run is linear",
			plant:     func(b *frame.Bars) { b.Open[1], b.Open[2] = nan, nan; b.Close[2] = nan },
			wantOpen:  []float64{1, 2, 3, 4, 5},
			wantClose: []float64{1.25, 2.25, 3.25, 4.25, 5.25},
			wantRep:   prep.CleanReport{Interpolated: 3},
		},
		{
			name: "run between uneven values",
			plant: func(b *frame.Bars) {
				b.Open = []float64{1, nan, nan, 10, 10}
			},
			wantOpen:  []float64{1, 4, 7, 10, 10},
			wantClose: []float64{1.25, 2.25, 3.25, 4.25, 5.25},
			wantRep:   prep.CleanReport{Interpolated: 2},
		},
		{
			name:      "leading value filled from carry",
			plant:     func(b *frame.Bars) { b.Open[0] = nan },
			carry:     []float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
			wantOpen:  []float64{0.5, 2, 3, 4, 5},
			wantClose: []float64{1.25, 2.25, 3.25, 4.25, 5.25},
			wantRep:   prep.CleanReport{Filled: 1},
		},
		{
			name:      "leading rows dropped without carry",
			plant:     func(b *frame.Bars) { b.Open[0], b.Open[1] = nan, nan },
			wantOpen:  []float64{3, 4, 5},
			wantClose: []float64{3.25, 4.25, 5.25},
			wantRep:   prep.CleanReport{DroppedRows: 2},
		},
		{
			name:      "trailing value forward-filled",
			plant:     func(b *frame.Bars) { b.Open[4] = nan },
			wantOpen:  []float64{1, 2, 3, 4, 4},
			wantClose: []float64{1.25, 2.25, 3.25, 4.25, 5.25},
			wantRep:   prep.CleanReport{Filled: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := seqBars(5)
			tc.plant(b)
			in := b.Slice(0, b.Len())
			got, carry, rep, err := prep.FillMissing(b, tc.carry, prep.MissingInterpolate)
			if err != nil {
				t.Fatal(err)
			}
			if !sameFloats(got.Open, tc.wantOpen) || !sameFloats(got.Close, tc.wantClose) {
				t.Errorf("open %v close %v, want %v and %v", got.Open, got.Close, tc.wantOpen, tc.wantClose)
			}
			if rep.Filled != tc.wantRep.Filled || rep.Interpolated != tc.wantRep.Interpolated || rep.DroppedRows != tc.wantRep.DroppedRows {
				t.Errorf("report %+v, want %+v", rep, tc.wantRep)
			}
			if want := got.Open[got.Len()-1]; carry[0] != want {
				t.Errorf("carried open %v, want the last open %v", carry[0], want)
			}
			if !sameFloats(b.Open, in.Open) || !sameFloats(b.Close, in.Close) {
				t.Errorf("input changed: open %v close %v", b.Open, b.Close)
			}
		})
	}
}

func TestFillMissingDropRemovesRowsAndRecordsBreaks(t *testing.T) {
	tests := []struct {
		name       string
		nanRows    []int
		breaks     []int // already in the input
		wantOpen   []float64
		wantBreaks []int
	}{
		{name: "nothing missing", wantOpen: []float64{1, 2, 3, 4, 5, 6, 7, 8}},
		{
			// Row 0 (start: no break), the run 3–4 (break before row 5) and row 6
			// (break before row 7) go.
			name:       "runs",
			nanRows:    []int{0, 3, 4, 6},
			wantOpen:   []float64{2, 3, 6, 8},
			wantBreaks: []int{2, 3},
		},
		{name: "trailing rows", nanRows: []int{6, 7}, wantOpen: []float64{1, 2, 3, 4, 5, 6}},
		{name: "leading run", nanRows: []int{0, 1, 2}, wantOpen: []float64{4, 5, 6, 7, 8}},
		{
			name:       "existing breaks kept and rebased",
			nanRows:    []int{1},
			breaks:     []int{5},
			wantOpen:   []float64{1, 3, 4, 5, 6, 7, 8},
			wantBreaks: []int{1, 4},
		},
		{
			name:       "existing break on a removed row is not doubled",
			nanRows:    []int{4},
			breaks:     []int{4},
			wantOpen:   []float64{1, 2, 3, 4, 6, 7, 8},
			wantBreaks: []int{4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := seqBars(8)
			b.Breaks = tc.breaks
			for i, r := range tc.nanRows {
				// A different column each time: any NaN removes the row.
				[][]float64{b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume}[i%6][r] = nan
			}
			got, carry, rep, err := prep.FillMissing(b, nil, prep.MissingDrop)
			if err != nil {
				t.Fatal(err)
			}
			if !sameFloats(got.Open, tc.wantOpen) {
				t.Errorf("open = %v, want %v", got.Open, tc.wantOpen)
			}
			if !slices.Equal(got.Breaks, tc.wantBreaks) {
				t.Errorf("breaks = %v, want %v", got.Breaks, tc.wantBreaks)
			}
			if rep.DroppedRows != len(tc.nanRows) || rep.Filled != 0 || rep.Interpolated != 0 {
				t.Errorf("report %+v, want %d dropped rows only", rep, len(tc.nanRows))
			}
			for r := range got.Len() {
				v := got.Open[r]
				if !got.Date[r].Equal(day0.AddDate(0, 0, int(v)-1)) || got.Volume[r] != 1000*v || math.IsNaN(got.High[r]+got.Low[r]+got.Close[r]+got.AdjClose[r]) {
					t.Errorf("row %d (open %v) is misaligned or has a NaN", r, v)
				}
			}
			last := tc.wantOpen[len(tc.wantOpen)-1]
			if want := []float64{last, last + 0.5, last - 0.5, last + 0.25, last + 0.2, 1000 * last}; !sameFloats(carry, want) {
				t.Errorf("carry = %v, want the last kept row %v", carry, want)
			}
		})
	}
}

func TestFillMissingDropCarriesOnWhenEverythingGoes(t *testing.T) {
	b := seqBars(2)
	b.Open[0], b.Open[1] = nan, nan
	carry := []float64{1, 2, 3, 4, 5, 6}
	got, next, rep, err := prep.FillMissing(b, carry, prep.MissingDrop)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 0 || rep.DroppedRows != 2 || !sameFloats(next, carry) {
		t.Fatalf("%d rows, report %+v, carry %v; want 0 rows, 2 dropped, carry unchanged", got.Len(), rep, next)
	}
}

func TestFillMissingUnknownStrategy(t *testing.T) {
	for _, s := range []string{"", "bfill", "FFILL", "mean"} {
		if _, _, _, err := prep.FillMissing(seqBars(3), nil, s); err == nil {
			t.Errorf("strategy %q: no error", s)
		}
	}
}

func TestCleanSpecValidate(t *testing.T) {
	ok := prep.DefaultCleanSpec()
	tests := []struct {
		name string
		spec prep.CleanSpec
		ok   bool
	}{
		{name: "default", spec: ok, ok: true},
		{name: "interpolate", spec: prep.CleanSpec{Missing: prep.MissingInterpolate, Outliers: ok.Outliers}, ok: true},
		{name: "drop", spec: prep.CleanSpec{Missing: prep.MissingDrop, Outliers: ok.Outliers}, ok: true},
		{name: "unknown missing", spec: prep.CleanSpec{Missing: "bfill", Outliers: ok.Outliers}},
		{name: "empty missing", spec: prep.CleanSpec{Outliers: ok.Outliers}},
		{name: "bad outliers", spec: prep.CleanSpec{Missing: prep.MissingFFill, Outliers: prep.OutlierSpec{Method: "mad", K: 3, Strategy: prep.OutlierFlag}}},
	}
	for _, tc := range tests {
		if err := tc.spec.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestOutlierSpecValidate(t *testing.T) {
	tests := []struct {
		spec prep.OutlierSpec
		ok   bool
	}{
		{spec: prep.DefaultOutlierSpec(), ok: true},
		{spec: prep.OutlierSpec{Method: prep.OutlierIQR, K: 1.5, Strategy: prep.OutlierClip}, ok: true},
		{spec: prep.OutlierSpec{Method: prep.OutlierZScore, K: 0.1, Strategy: prep.OutlierDrop}, ok: true},
		{spec: prep.OutlierSpec{Method: prep.OutlierNone}, ok: true}, // k and strategy unused
		{spec: prep.OutlierSpec{Method: "mad", K: 3, Strategy: prep.OutlierFlag}},
		{spec: prep.OutlierSpec{Method: "", K: 3, Strategy: prep.OutlierFlag}},
		{spec: prep.OutlierSpec{Method: prep.OutlierZScore, K: 0, Strategy: prep.OutlierFlag}},
		{spec: prep.OutlierSpec{Method: prep.OutlierIQR, K: -1, Strategy: prep.OutlierFlag}},
		{spec: prep.OutlierSpec{Method: prep.OutlierIQR, K: nan, Strategy: prep.OutlierFlag}},
		{spec: prep.OutlierSpec{Method: prep.OutlierZScore, K: 3, Strategy: "winsorize"}},
		{spec: prep.OutlierSpec{Method: prep.OutlierZScore, K: 3}},
	}
	for _, tc := range tests {
		if err := tc.spec.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok %v", tc.spec, err, tc.ok)
		}
	}
}
