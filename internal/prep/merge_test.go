package prep_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

// pickRows returns the rows idx of b (in the order given) as new bars.
func pickRows(b *frame.Bars, idx ...int) *frame.Bars {
	out := &frame.Bars{Ticker: b.Ticker}
	for _, i := range idx {
		out.Date = append(out.Date, b.Date[i])
		out.Open = append(out.Open, b.Open[i])
		out.High = append(out.High, b.High[i])
		out.Low = append(out.Low, b.Low[i])
		out.Close = append(out.Close, b.Close[i])
		out.AdjClose = append(out.AdjClose, b.AdjClose[i])
		out.Volume = append(out.Volume, b.Volume[i])
	}
	return out
}

// span returns the indices from..to-1.
func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// mergeColumns names the compared columns of bars, in Merge's order.
func mergeColumns(b *frame.Bars) []struct {
	name string
	v    []float64
} {
	return []struct {
		name string
		v    []float64
	}{{"open", b.Open}, {"high", b.High}, {"low", b.Low}, {"close", b.Close}, {"adj_close", b.AdjClose}, {"volume", b.Volume}}
}

// sameBars reports (as a message, "" when equal) whether got has the rows
// of want, every column.
func sameBars(got, want *frame.Bars) string {
	if got.Len() != want.Len() {
		return "row count differs"
	}
	for i := range want.Date {
		if !got.Date[i].Equal(want.Date[i]) {
			return "date of row " + want.Date[i].Format("2006-01-02") + " differs"
		}
	}
	gc, wc := mergeColumns(got), mergeColumns(want)
	for k := range wc {
		if !sameFloats(gc[k].v, wc[k].v) {
			return "column " + wc[k].name + " differs"
		}
	}
	return ""
}

// deepCopy copies every column of b.
func deepCopy(b *frame.Bars) *frame.Bars { return b.Slice(0, b.Len()) }

func ymd(t time.Time) string { return t.Format("2006-01-02") }

func TestMergeAppendsNewDaysInDateOrder(t *testing.T) {
	all := seqBars(13)
	base := pickRows(all, span(0, 10)...)
	add := pickRows(all, 8, 9, 10, 11, 12) // two agreeing overlap days, three new
	before := deepCopy(base)
	got, rep, err := prep.Merge(base, add)
	if err != nil {
		t.Fatal(err)
	}
	if rep.NewRows != 3 || rep.Overlap != 2 || len(rep.Conflicts) != 0 {
		t.Fatalf("report %+v: want 3 new rows, 2 overlapping, no conflict", rep)
	}
	if rep.First != ymd(all.Date[10]) {
		t.Fatalf("first new day %q, want %s", rep.First, ymd(all.Date[10]))
	}
	if msg := sameBars(got, all); msg != "" {
		t.Fatalf("merged bars: %s", msg)
	}
	if got.Ticker != base.Ticker {
		t.Fatalf("ticker %q, want the base's %q", got.Ticker, base.Ticker)
	}
	if msg := sameBars(base, before); msg != "" {
		t.Fatalf("the base was modified: %s", msg)
	}
}

func TestMergeBackfillInterleavesBeforeAndBetweenBaseDays(t *testing.T) {
	all := seqBars(20)
	base := pickRows(all, 4, 6, 8, 10, 12, 14, 16, 18)
	// New days before the base (0..3) and between its days (5, 7, 11);
	// 6 is an agreeing overlap.
	add := pickRows(all, 0, 1, 2, 3, 5, 6, 7, 11)
	got, rep, err := prep.Merge(base, add)
	if err != nil {
		t.Fatal(err)
	}
	if rep.NewRows != 7 || rep.Overlap != 1 || rep.First != ymd(all.Date[0]) {
		t.Fatalf("report %+v: want 7 new rows from %s and 1 overlap", rep, ymd(all.Date[0]))
	}
	want := pickRows(all, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 14, 16, 18)
	if msg := sameBars(got, want); msg != "" {
		t.Fatalf("merged bars: %s (dates %v)", msg, got.Date)
	}
}

func TestMergeFirstIsTheEarliestNewDayNotTheFirstOverlap(t *testing.T) {
	all := seqBars(12)
	base := pickRows(all, 0, 1, 2, 3, 4, 5, 6, 7)
	add := pickRows(all, 6, 7, 8, 9)
	_, rep, err := prep.Merge(base, add)
	if err != nil {
		t.Fatal(err)
	}
	if rep.First != ymd(all.Date[8]) || rep.NewRows != 2 || rep.Overlap != 2 {
		t.Fatalf("report %+v: want first new day %s, 2 new, 2 overlapping", rep, ymd(all.Date[8]))
	}
}

func TestMergeAgreesWithinTheExportRounding(t *testing.T) {
	for _, tc := range []struct {
		name      string
		have, new float64
		agree     bool
	}{
		{"identical", 605.6099853515625, 605.6099853515625, true},
		{"float32 vs 6 decimals", 605.6099853515625, 605.609985, true},
		{"6 decimals vs float32", 605.609985, 605.6099853515625, true},
		{"relative 5e-7 above", 1000, 1000 * (1 + 5e-7), true},
		{"relative 5e-7 below", 1000, 1000 * (1 - 5e-7), true},
		{"relative 2e-6", 1000, 1000 * (1 + 2e-6), false},
		{"a cent on 600", 605.61, 605.62, false},
		{"zero vs zero", 0, 0, true},
		{"zero vs tiny", 0, 1e-3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := seqBars(4)
			base := pickRows(all, 0, 1, 2)
			add := pickRows(all, 2, 3)
			base.Close[2], add.Close[0] = tc.have, tc.new
			got, rep, err := prep.Merge(base, add)
			if tc.agree {
				if err != nil || got == nil || rep.Overlap != 1 || rep.NewRows != 1 || len(rep.Conflicts) != 0 {
					t.Fatalf("%v vs %v: err %v, report %+v: want them to agree", tc.have, tc.new, err, rep)
				}
				if got.Close[2] != tc.have {
					t.Fatalf("the base's value %v was replaced by %v", tc.have, got.Close[2])
				}
				return
			}
			if err == nil || got != nil || len(rep.Conflicts) != 1 {
				t.Fatalf("%v vs %v: err %v, bars %v, report %+v: want a conflict", tc.have, tc.new, err, got != nil, rep)
			}
		})
	}
}

func TestMergeOneDisagreeingValueRejectsEverything(t *testing.T) {
	for _, col := range []string{"open", "high", "low", "close", "adj_close", "volume"} {
		t.Run(col, func(t *testing.T) {
			all := seqBars(10)
			base := pickRows(all, span(0, 6)...)
			add := pickRows(all, 4, 5, 6, 7, 8, 9) // 2 overlap days, 4 new ones
			var target []float64
			for _, c := range mergeColumns(add) {
				if c.name == col {
					target = c.v
				}
			}
			have := target[1] // the row of day 5
			target[1] = have * 1.01
			before := deepCopy(base)
			got, rep, err := prep.Merge(base, add)
			if err == nil {
				t.Fatal("a changed value merged without an error")
			}
			if got != nil {
				t.Fatalf("got %d rows with the error, want nil bars", got.Len())
			}
			want := prep.Conflict{Date: ymd(all.Date[5]), Column: col, Have: have, New: have * 1.01}
			if len(rep.Conflicts) != 1 || rep.Conflicts[0] != want {
				t.Fatalf("conflicts %+v, want [%+v]", rep.Conflicts, want)
			}
			if rep.NewRows != 0 || rep.First != "" {
				t.Fatalf("report %+v claims new rows though nothing merged", rep)
			}
			if rep.Overlap != 1 {
				t.Fatalf("overlap %d: want 1 (the agreeing day only)", rep.Overlap)
			}
			if !strings.Contains(err.Error(), ymd(all.Date[5])) || !strings.Contains(err.Error(), col) {
				t.Fatalf("error %q does not name the day and column", err)
			}
			if msg := sameBars(base, before); msg != "" {
				t.Fatalf("the base was modified: %s", msg)
			}
		})
	}
}

func TestMergeListsEveryConflict(t *testing.T) {
	all := seqBars(6)
	base := pickRows(all, span(0, 4)...)
	add := pickRows(all, 2, 3, 4, 5)
	add.Open[0] += 1   // day 2
	add.Volume[1] += 7 // day 3
	add.Low[1] -= 0.1  // day 3
	_, rep, err := prep.Merge(base, add)
	if err == nil {
		t.Fatal("conflicts merged")
	}
	got := map[string]bool{}
	for _, c := range rep.Conflicts {
		got[c.Date+" "+c.Column] = true
	}
	for _, k := range []string{ymd(all.Date[2]) + " open", ymd(all.Date[3]) + " low", ymd(all.Date[3]) + " volume"} {
		if !got[k] {
			t.Errorf("conflict %s missing from %+v", k, rep.Conflicts)
		}
	}
	if len(rep.Conflicts) != 3 || rep.Overlap != 0 {
		t.Fatalf("conflicts %+v overlap %d: want exactly 3 and no agreeing day", rep.Conflicts, rep.Overlap)
	}
}

func TestMergeMissingValues(t *testing.T) {
	for _, tc := range []struct {
		name      string
		have, new float64
		agree     bool
	}{
		{"both missing", nan, nan, true},
		{"missing in base", nan, 3.25, false},
		{"missing in new", 3.25, nan, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := seqBars(4)
			base := pickRows(all, 0, 1, 2)
			add := pickRows(all, 2, 3)
			base.High[2], add.High[0] = tc.have, tc.new
			got, rep, err := prep.Merge(base, add)
			if tc.agree {
				if err != nil || rep.Overlap != 1 || rep.NewRows != 1 {
					t.Fatalf("err %v report %+v: want NaN and NaN to agree", err, rep)
				}
				if !math.IsNaN(got.High[2]) {
					t.Fatalf("merged high %v, want the base's NaN", got.High[2])
				}
				return
			}
			if err == nil || got != nil || len(rep.Conflicts) != 1 || rep.Conflicts[0].Column != "high" {
				t.Fatalf("err %v report %+v: want one conflict on high", err, rep)
			}
		})
	}
}

func TestMergeAllOverlapReturnsTheBase(t *testing.T) {
	all := seqBars(8)
	base := pickRows(all, span(0, 8)...)
	add := pickRows(all, 3, 4, 5)
	got, rep, err := prep.Merge(base, add)
	if err != nil {
		t.Fatal(err)
	}
	if rep.NewRows != 0 || rep.Overlap != 3 || rep.First != "" || len(rep.Conflicts) != 0 {
		t.Fatalf("report %+v: want 0 new rows, 3 overlapping", rep)
	}
	if got != base {
		t.Fatal("an all-overlap merge did not return the base itself")
	}
}

// tailFrom is the date of b's row, as SplitTail's NewFrom.
func tailFrom(b *frame.Bars, row int) string { return ymd(b.Date[row]) }

func TestSplitTailCutsTheNewRowsWithContext(t *testing.T) {
	b := seqBars(1250) // rows 1000.. are new
	train, val, test, err := prep.SplitTail(b, prep.TailSplit{NewFrom: tailFrom(b, 1000), Val: 0.2, Test: 0.2, Context: 50})
	if err != nil {
		t.Fatal(err)
	}
	// 250 new rows: test is rows 1200..1249, val 1150..1199, each preceded
	// by 50 context rows; train is everything before val's own rows.
	if test.Len() != 100 || test.Open[0] != 1151 || test.Open[50] != 1201 || test.Open[99] != 1250 {
		t.Fatalf("test has %d rows, open %v (context start), %v (first target), %v (last): want 100, 1151, 1201, 1250",
			test.Len(), test.Open[0], test.Open[min(50, test.Len()-1)], test.Open[test.Len()-1])
	}
	if val.Len() != 100 || val.Open[0] != 1101 || val.Open[50] != 1151 || val.Open[99] != 1200 {
		t.Fatalf("val has %d rows, open %v, %v, %v: want 100, 1101, 1151, 1200",
			val.Len(), val.Open[0], val.Open[min(50, val.Len()-1)], val.Open[val.Len()-1])
	}
	if train.Len() != 1150 || train.Open[0] != 1 || train.Open[1149] != 1150 {
		t.Fatalf("train has %d rows ending at open %v: want 1150 ending at 1150", train.Len(), train.Open[train.Len()-1])
	}
	for _, p := range []*frame.Bars{train, val, test} {
		if msg := sameBars(p, pickRows(b, span(int(p.Open[0])-1, int(p.Open[0])-1+p.Len())...)); msg != "" {
			t.Fatalf("a part is not a contiguous copy of the input: %s", msg)
		}
	}
	if b.Len() != 1250 {
		t.Fatal("the input was modified")
	}
}

func TestSplitTailWithoutContext(t *testing.T) {
	b := seqBars(1250)
	train, val, test, err := prep.SplitTail(b, prep.TailSplit{NewFrom: tailFrom(b, 1000), Val: 0.2, Test: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 1150 || val.Len() != 50 || test.Len() != 50 || val.Open[0] != 1151 || test.Open[0] != 1201 {
		t.Fatalf("split %d/%d/%d: want 1150/50/50 with no shared row", train.Len(), val.Len(), test.Len())
	}
}

func TestSplitTailRounding(t *testing.T) {
	for _, tc := range []struct {
		name            string
		rows, newRows   int
		val, test       float64
		wantVal, wantTe int
	}{
		// 13 new rows: 0.2·13 = 2.6 → 3 (floor would give 2), 0.1·13 = 1.3 → 1 (ceil would give 2).
		{"rounds to nearest", 40, 13, 0.1, 0.2, 1, 3},
		// 4 new rows: 0.1·4 = 0.4 rounds to 0, but each part keeps one row.
		{"at least one row each", 40, 4, 0.1, 0.1, 1, 1},
		{"even split", 100, 50, 0.2, 0.2, 10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := seqBars(tc.rows)
			first := tc.rows - tc.newRows
			train, val, test, err := prep.SplitTail(b, prep.TailSplit{NewFrom: tailFrom(b, first), Val: tc.val, Test: tc.test})
			if err != nil {
				t.Fatal(err)
			}
			if val.Len() != tc.wantVal || test.Len() != tc.wantTe || train.Len() != tc.rows-tc.wantVal-tc.wantTe {
				t.Fatalf("split %d/%d/%d, want val %d and test %d", train.Len(), val.Len(), test.Len(), tc.wantVal, tc.wantTe)
			}
		})
	}
}

func TestSplitTailNewFromIsTheFirstRowOnOrAfterIt(t *testing.T) {
	all := seqBars(30)
	b := pickRows(all, append(span(0, 10), span(15, 30)...)...) // no rows dated 10..14
	// New from a day with no row: the new rows are 15..29 (15 of them).
	train, val, test, err := prep.SplitTail(b, prep.TailSplit{NewFrom: ymd(all.Date[12]), Val: 0.2, Test: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if test.Len() != 3 || val.Len() != 3 || train.Len() != 19 || test.Open[0] != 28 || val.Open[0] != 25 {
		t.Fatalf("split %d/%d/%d (val from %v, test from %v): want 19/3/3 from 25 and 28",
			train.Len(), val.Len(), test.Len(), val.Open[0], test.Open[0])
	}
}

func TestSplitTailContextClampsAtTheFirstRow(t *testing.T) {
	b := seqBars(20)
	train, val, test, err := prep.SplitTail(b, prep.TailSplit{NewFrom: tailFrom(b, 10), Val: 0.2, Test: 0.2, Context: 100})
	if err != nil {
		t.Fatal(err)
	}
	// 10 new rows: test 18..19, val 16..17; the context reaches back past row 0.
	if train.Len() != 16 || val.Len() != 18 || test.Len() != 20 || val.Open[0] != 1 || test.Open[0] != 1 {
		t.Fatalf("split %d/%d/%d: want 16/18/20, val and test starting at row 0", train.Len(), val.Len(), test.Len())
	}
}

func TestSplitTailErrors(t *testing.T) {
	b := seqBars(100)
	ok := prep.TailSplit{NewFrom: tailFrom(b, 80), Val: 0.2, Test: 0.2, Context: 5}
	if _, _, _, err := prep.SplitTail(b, ok); err != nil {
		t.Fatalf("the valid split failed: %v", err)
	}
	for _, tc := range []struct {
		name string
		b    *frame.Bars
		mut  func(*prep.TailSplit)
	}{
		{"one new row", b, func(s *prep.TailSplit) { s.NewFrom = tailFrom(b, 99) }},
		{"no new row", b, func(s *prep.TailSplit) { s.NewFrom = ymd(b.Date[99].AddDate(0, 0, 1)) }},
		{"no row left to train", seqBars(2), func(s *prep.TailSplit) { s.NewFrom = ymd(day0) }},
		{"zero val", b, func(s *prep.TailSplit) { s.Val = 0 }},
		{"zero test", b, func(s *prep.TailSplit) { s.Test = 0 }},
		{"negative val", b, func(s *prep.TailSplit) { s.Val = -0.1 }},
		{"shares sum to 1", b, func(s *prep.TailSplit) { s.Val, s.Test = 0.5, 0.5 }},
		{"shares above 1", b, func(s *prep.TailSplit) { s.Val, s.Test = 0.7, 0.6 }},
		{"negative context", b, func(s *prep.TailSplit) { s.Context = -1 }},
		{"new_from not a date", b, func(s *prep.TailSplit) { s.NewFrom = "2020/01/06" }},
		{"empty new_from", b, func(s *prep.TailSplit) { s.NewFrom = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.mut(&s)
			train, val, test, err := prep.SplitTail(tc.b, s)
			if err == nil {
				t.Fatalf("%+v split without an error", s)
			}
			if train != nil || val != nil || test != nil {
				t.Fatal("parts returned with the error")
			}
		})
	}
}
