package validate

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// barsFromOpen makes weekday bars whose every price column is open (NaN
// allowed) and volume 1000.
func barsFromOpen(t *testing.T, open []float64) *frame.Bars {
	t.Helper()
	b := &frame.Bars{Ticker: "T"}
	day := date(t, "2019-01-07")
	for _, v := range open {
		for isWeekend(day.Weekday()) {
			day = day.AddDate(0, 0, 1)
		}
		b.Date = append(b.Date, day)
		b.Open, b.High, b.Low = append(b.Open, v), append(b.High, v), append(b.Low, v)
		b.Close, b.AdjClose = append(b.Close, v), append(b.AdjClose, v)
		b.Volume = append(b.Volume, 1000)
		day = day.AddDate(0, 0, 1)
	}
	return b
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestDescribeQuartilesAndHistogramOfKnownValues(t *testing.T) {
	// 1..10 with a missing value in the middle; order does not matter.
	b := barsFromOpen(t, []float64{7, 1, 10, 4, math.NaN(), 2, 9, 3, 6, 5, 8})
	cs, ok := Describe(b, 3).Column(ColumnOpen)
	if !ok {
		t.Fatal("no open column")
	}
	// Type-7 quantiles of 1..10: position q·9 → q25 = 3+0.25 = 3.25,
	// median = 5.5, q75 = 7+0.75 = 7.75. Sample variance = 82.5/9.
	want := ColumnStats{Name: "open", Count: 10, Missing: 1, Mean: 5.5, Std: math.Sqrt(82.5 / 9),
		Min: 1, Q25: 3.25, Median: 5.5, Q75: 7.75, Max: 10,
		// Width (10−1)/3 = 3: [1,4) holds 1,2,3; [4,7) 4,5,6; [7,10] 7,8,9,10.
		Histogram: Histogram{Edges: []float64{1, 4, 7, 10}, Counts: []int{3, 3, 4}}}
	if !near(cs.Std, want.Std, 1e-12) {
		t.Fatalf("std %v, want %v", cs.Std, want.Std)
	}
	cs.Std = want.Std
	if !reflect.DeepEqual(cs, want) {
		t.Fatalf("got  %+v\nwant %+v", cs, want)
	}
}

func TestDescribeReturns(t *testing.T) {
	// Returns: log(1.1), log(0.9) (skipping the missing row), log(1) = 0.
	b := barsFromOpen(t, []float64{100, 110, math.NaN(), 99, 99})
	cs, _ := Describe(b, 2).Column(ColumnReturnClose)
	up, down := math.Log(1.1), math.Log(0.9)
	if cs.Count != 3 || cs.Missing != 1 {
		t.Fatalf("count %d missing %d, want 3 and 1", cs.Count, cs.Missing)
	}
	if cs.Median != 0 || !near(cs.Min, down, 1e-12) || !near(cs.Max, up, 1e-12) || !near(cs.Mean, (up+down)/3, 1e-12) {
		t.Fatalf("got %+v", cs)
	}
	// |r − median| = {0.0953, 0.1054, 0}: median 0.0953.
	if !near(cs.MAD, up, 1e-12) {
		t.Fatalf("MAD %v, want %v", cs.MAD, up)
	}
	if len(cs.Quantiles) != sketchSize || cs.Quantiles[0] != cs.Min || cs.Quantiles[sketchSize-1] != cs.Max || cs.Quantiles[sketchSize/2] != cs.Median {
		t.Fatalf("sketch ends/middle: %v %v %v", cs.Quantiles[0], cs.Quantiles[sketchSize/2], cs.Quantiles[sketchSize-1])
	}
}

func TestDescribeHasEveryColumnAndHandlesEmptyOnes(t *testing.T) {
	b := barsFromOpen(t, []float64{math.NaN(), math.NaN()})
	s := Describe(b, 0)
	var names []string
	for _, c := range s.Columns {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "open,high,low,close,adj_close,volume,ret_close,ret_open" {
		t.Fatalf("columns %s", got)
	}
	if cs, _ := s.Column(ColumnClose); cs.Count != 0 || cs.Missing != 2 || cs.Mean != 0 {
		t.Fatalf("all-missing close: %+v", cs)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("stats of missing columns must marshal: %v", err)
	}
	if cs, _ := s.Column(ColumnVolume); len(cs.Histogram.Counts) != DefaultConfig().Bins || cs.Histogram.Counts[0] != 2 {
		t.Fatalf("constant volume histogram: %+v", cs.Histogram)
	}
}

func TestStatsJSONRoundTripAndFieldNames(t *testing.T) {
	s := Describe(synthBars(3, 300, time.Date(2010, 1, 4, 0, 0, 0, 0, time.UTC), 0, 0.01), 8)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"rows"`, `"first_date"`, `"columns"`, `"count"`, `"missing"`, `"mean"`, `"std"`, `"min"`,
		`"q25"`, `"median"`, `"q75"`, `"max"`, `"mad"`, `"histogram"`, `"edges"`, `"counts"`, `"quantiles"`, `"ret_close"`} {
		if !strings.Contains(string(data), field) {
			t.Errorf("stats JSON lacks %s", field)
		}
	}
	var back Stats
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatal("stats changed through JSON")
	}
}

func TestMedianAbsDeviationMatchesSortingTheDeviations(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		v := normalSample(seed, int(seed)*7%53+1, 0.001, 0.02)
		if seed%3 == 0 {
			v = append(v, 0, 0, 0, v[0], v[0]) // ties, also with the median
		}
		slices.Sort(v)
		med := quantileSorted(v, 0.5)
		dev := make([]float64, len(v))
		for i, x := range v {
			dev[i] = math.Abs(x - med)
		}
		slices.Sort(dev)
		if got, want := medianAbsDeviationSorted(v, med), quantileSorted(dev, 0.5); got != want {
			t.Fatalf("n=%d: MAD %v, want %v", len(v), got, want)
		}
	}
}
