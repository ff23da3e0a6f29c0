package validate

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// cleanBars are 30 rule-abiding bars from Monday 2016-03-07 (Good Friday
// 2016-03-25 is skipped, as the NYSE was closed).
func cleanBars(t *testing.T) *frame.Bars {
	t.Helper()
	b := synthBars(1, 31, date(t, "2016-03-07"), 0, 0.01)
	gf := slices.IndexFunc(b.Date, func(d time.Time) bool { return d.Format(frame.DateLayout) == "2016-03-25" })
	if gf < 0 {
		t.Fatal("synthetic bars miss 2016-03-25")
	}
	b2 := b.Slice(0, gf)
	rest := b.Slice(gf+1, b.Len())
	for _, p := range [][2]*[]float64{{&b2.Open, &rest.Open}, {&b2.High, &rest.High}, {&b2.Low, &rest.Low},
		{&b2.Close, &rest.Close}, {&b2.AdjClose, &rest.AdjClose}, {&b2.Volume, &rest.Volume}} {
		*p[0] = append(*p[0], *p[1]...)
	}
	b2.Date = append(b2.Date, rest.Date...)
	return b2
}

func TestCheckRulesCleanBarsHaveNoAnomaly(t *testing.T) {
	if as := CheckRules(cleanBars(t), DefaultConfig()); len(as) != 0 {
		t.Fatalf("clean bars: want no anomaly, got %+v", as)
	}
}

func TestCheckRulesFlagsEachBrokenRule(t *testing.T) {
	const r = 5
	cases := []struct {
		name     string
		mutate   func(b *frame.Bars)
		rule     string
		severity string
		column   string
	}{
		{"missing open", func(b *frame.Bars) { b.Open[r] = math.NaN() }, RuleMissingValue, SeverityWarning, "open"},
		{"missing high and volume", func(b *frame.Bars) { b.High[r], b.Volume[r] = math.NaN(), math.NaN() }, RuleMissingValue, SeverityWarning, "high,volume"},
		{"infinite close", func(b *frame.Bars) { b.Close[r], b.AdjClose[r] = math.Inf(1), math.Inf(1) }, RuleMissingValue, SeverityWarning, "close,adj_close"},
		{"zero low", func(b *frame.Bars) { b.Low[r] = 0 }, RuleNonPositivePrice, SeverityCritical, ""},
		{"negative adj close", func(b *frame.Bars) { b.AdjClose[r] = -1 }, RuleNonPositivePrice, SeverityCritical, ""},
		{"high below close", func(b *frame.Bars) { b.High[r] = max(b.Open[r], b.Close[r]) * 0.999 }, RuleHighBelowOC, SeverityWarning, "high"},
		{"low above open", func(b *frame.Bars) { b.Low[r] = min(b.Open[r], b.Close[r]) * 1.001 }, RuleLowAboveOC, SeverityWarning, "low"},
		{"negative volume", func(b *frame.Bars) { b.Volume[r] = -5 }, RuleNegativeVolume, SeverityWarning, "volume"},
		{"zero volume", func(b *frame.Bars) { b.Volume[r] = 0 }, RuleZeroVolume, SeverityWarning, "volume"},
		{"duplicate date", func(b *frame.Bars) { b.Date[r] = b.Date[r-1] }, RuleDuplicateDate, SeverityCritical, ""},
		{"date going back", func(b *frame.Bars) { b.Date[r] = b.Date[r-1].AddDate(0, 0, -1) }, RuleDateNotIncreasing, SeverityCritical, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := cleanBars(t)
			tc.mutate(b)
			var atRow []Anomaly
			for _, a := range CheckRules(b, DefaultConfig()) {
				switch {
				case a.Row == r:
					atRow = append(atRow, a)
				case a.Severity == SeverityCritical:
					t.Errorf("unexpected critical anomaly %+v", a)
				}
			}
			if len(atRow) != 1 {
				t.Fatalf("want exactly one anomaly at row %d, got %+v", r, atRow)
			}
			a := atRow[0]
			if a.Rule != tc.rule || a.Severity != tc.severity || a.Row != r || a.Column != tc.column || a.Date != b.Date[r].Format(frame.DateLayout) {
				t.Fatalf("got %+v, want rule %s severity %s row %d column %q", a, tc.rule, tc.severity, r, tc.column)
			}
		})
	}
}

func TestCheckRulesHighLowRulesUseThePresentValues(t *testing.T) {
	b := cleanBars(t)
	b.Open[3] = math.NaN()
	b.High[3] = b.Close[3] * 0.99 // below close: still a violation without open
	as := CheckRules(b, DefaultConfig())
	if _, ok := findAnomaly(as, RuleHighBelowOC, b.Date[3].Format(frame.DateLayout), "high"); !ok {
		t.Fatalf("high below close with open missing not flagged: %+v", as)
	}
	if _, ok := findAnomaly(as, RuleMissingValue, b.Date[3].Format(frame.DateLayout), "open"); !ok {
		t.Fatalf("missing open not flagged: %+v", as)
	}
}

func TestCheckRulesWeekendDate(t *testing.T) {
	b := synthBars(2, 3, date(t, "2016-03-07"), 0, 0.01)
	b.Date[2] = date(t, "2016-03-12") // Saturday after Tue 2016-03-08
	as := CheckRules(b, DefaultConfig())
	a, ok := findAnomaly(as, RuleWeekendDate, "2016-03-12", "")
	if !ok || a.Severity != SeverityWarning || !strings.Contains(a.Detail, "Saturday") {
		t.Fatalf("weekend date: got %+v", as)
	}
	// Wed 2016-03-09, Thu, Fri are trading days skipped on the way.
	g, ok := findAnomaly(as, RuleGap, "2016-03-12", "")
	if !ok || g.Value != 3 {
		t.Fatalf("want a gap of 3 missing trading days, got %+v", as)
	}
}

func TestCheckRulesGaps(t *testing.T) {
	cases := []struct {
		prev, cur string
		severity  string // "" = no gap
		value     float64
	}{
		{"2016-03-24", "2016-03-28", "", 0},               // Good Friday + weekend: 4 days, nothing missing
		{"2016-03-04", "2016-03-07", "", 0},               // weekend
		{"2016-03-08", "2016-03-10", SeverityWarning, 1},  // Wednesday missing
		{"2016-03-04", "2016-03-08", SeverityWarning, 1},  // Monday missing (4 days: not a long gap)
		{"2001-09-10", "2001-09-17", SeverityInfo, 7},     // 9/11 closure
		{"2012-10-26", "2012-10-31", SeverityInfo, 5},     // Hurricane Sandy
		{"2015-03-06", "2015-03-23", SeverityWarning, 10}, // ten trading days missing
		{"1950-03-03", "1950-03-09", SeverityInfo, 6},     // before the calendar: only the length
	}
	for _, tc := range cases {
		b := &frame.Bars{
			Date: []time.Time{date(t, tc.prev), date(t, tc.cur)},
			Open: []float64{10, 10}, High: []float64{11, 11}, Low: []float64{9, 9},
			Close: []float64{10, 10}, AdjClose: []float64{10, 10}, Volume: []float64{100, 100},
		}
		gaps := withRule(CheckRules(b, DefaultConfig()), RuleGap)
		if tc.severity == "" {
			if len(gaps) != 0 {
				t.Errorf("%s → %s: want no gap, got %+v", tc.prev, tc.cur, gaps)
			}
			continue
		}
		if len(gaps) != 1 || gaps[0].Severity != tc.severity || gaps[0].Value != tc.value || gaps[0].Row != 1 {
			t.Errorf("%s → %s: want one %s gap of %g, got %+v", tc.prev, tc.cur, tc.severity, tc.value, gaps)
		}
	}
}

func TestCheckRulesGapDaysIsConfigurable(t *testing.T) {
	b := &frame.Bars{
		Date: []time.Time{date(t, "2001-09-10"), date(t, "2001-09-17")},
		Open: []float64{10, 10}, High: []float64{11, 11}, Low: []float64{9, 9},
		Close: []float64{10, 10}, AdjClose: []float64{10, 10}, Volume: []float64{100, 100},
	}
	cfg := DefaultConfig()
	cfg.GapDays = 7
	if gaps := withRule(CheckRules(b, cfg), RuleGap); len(gaps) != 0 {
		t.Fatalf("GapDays 7: a 7-day closure is no gap, got %+v", gaps)
	}
}

func TestCheckRulesBadShapeIsCriticalNotAPanic(t *testing.T) {
	b := cleanBars(t)
	b.Volume = b.Volume[:len(b.Volume)-1]
	as := CheckRules(b, DefaultConfig())
	if len(as) != 1 || as[0].Rule != RuleSchemaMismatch || as[0].Severity != SeverityCritical || as[0].Column != "volume" {
		t.Fatalf("short column: got %+v", as)
	}
	as = CheckRules(&frame.Bars{}, DefaultConfig())
	if len(Critical(as)) != 1 || as[0].Rule != RuleSchemaMismatch {
		t.Fatalf("no rows: got %+v", as)
	}
}

func TestAnomaliesAreSortedByRowThenRule(t *testing.T) {
	b := cleanBars(t)
	b.Volume[7] = 0
	b.Open[7] = math.NaN()
	b.Open[2] = 0 // non-positive, and now below the low
	as := CheckRules(b, DefaultConfig())
	got := make([]string, len(as))
	for i, a := range as {
		got[i] = a.Date + " " + a.Rule
	}
	want := []string{
		b.Date[2].Format(frame.DateLayout) + " " + RuleLowAboveOC,
		b.Date[2].Format(frame.DateLayout) + " " + RuleNonPositivePrice,
		b.Date[7].Format(frame.DateLayout) + " " + RuleMissingValue,
		b.Date[7].Format(frame.DateLayout) + " " + RuleZeroVolume,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order:\n got %q\nwant %q", got, want)
	}
}

func TestCriticalKeepsOnlyCriticalInOrder(t *testing.T) {
	as := []Anomaly{
		{Severity: SeverityWarning, Rule: RuleGap, Row: 1},
		{Severity: SeverityCritical, Rule: RuleDuplicateDate, Row: 2},
		{Severity: SeverityInfo, Rule: RuleOutOfRange, Row: WholeSplit},
		{Severity: SeverityCritical, Rule: RuleNonPositivePrice, Row: 4},
	}
	got := Critical(as)
	if len(got) != 2 || got[0].Row != 2 || got[1].Row != 4 {
		t.Fatalf("Critical: got %+v", got)
	}
	if Critical(nil) != nil {
		t.Fatal("Critical(nil) must be empty")
	}
}
