package validate

import (
	"math"
	"testing"
	"time"
)

// driftTrain is 2000 days of a random walk with 1% daily volatility.
func driftTrain() (train Stats, next time.Time) {
	b := synthBars(1, 2000, time.Date(2000, 1, 3, 0, 0, 0, 0, time.UTC), 0, 0.01)
	return Describe(b, 0), b.Date[b.Len()-1].AddDate(0, 0, 1)
}

// byColumn indexes drift entries by column, failing on a repeated one.
func byColumn(t *testing.T, ds []ColumnDrift) map[string]ColumnDrift {
	t.Helper()
	out := map[string]ColumnDrift{}
	for _, d := range ds {
		if _, dup := out[d.Column]; dup {
			t.Fatalf("column %s reported twice: %+v", d.Column, ds)
		}
		out[d.Column] = d
	}
	return out
}

func TestReturnDriftReportsBothReturnColumns(t *testing.T) {
	train, next := driftTrain()
	ds := ReturnDrift(synthBars(2, 250, next, 0, 0.01), train, Config{})
	if len(ds) != 2 || ds[0].Column != ColumnReturnClose || ds[1].Column != ColumnReturnOpen {
		t.Fatalf("columns %+v: want ret_close then ret_open", ds)
	}
	for _, d := range ds {
		if d.N != 249 {
			t.Errorf("%s: N %d, want 249 returns of 250 rows", d.Column, d.N)
		}
		if d.KSD <= 0 || d.KSD >= 1 || d.KSP <= 0 || d.KSP > 1 || d.JS < 0 || math.IsNaN(d.JS) {
			t.Errorf("%s: numbers out of range: %+v", d.Column, d)
		}
	}
}

func TestReturnDriftSameDistributionIsSmall(t *testing.T) {
	train, next := driftTrain()
	for seed := uint64(2); seed < 7; seed++ {
		cols := byColumn(t, ReturnDrift(synthBars(seed, 250, next, 0, 0.01), train, Config{}))
		for _, name := range []string{ColumnReturnClose, ColumnReturnOpen} {
			d, ok := cols[name]
			if !ok {
				t.Fatalf("seed %d: %s not reported", seed, name)
			}
			if d.JS >= 0.05 || d.KSP <= 0.05 || d.KSD >= 0.15 {
				t.Errorf("seed %d %s: JS %.4f, KS D %.4f p %.4g: want JS < 0.05 and a large p for the training distribution",
					seed, name, d.JS, d.KSD, d.KSP)
			}
		}
	}
}

func TestReturnDriftHigherVolatilityIsLarge(t *testing.T) {
	train, next := driftTrain()
	same := byColumn(t, ReturnDrift(synthBars(2, 250, next, 0, 0.01), train, Config{}))
	wide := byColumn(t, ReturnDrift(synthBars(2, 250, next, 0, 0.03), train, Config{}))
	for _, name := range []string{ColumnReturnClose, ColumnReturnOpen} {
		d := wide[name]
		if d.JS <= 0.1 || d.KSP >= 1e-6 {
			t.Errorf("%s at 3× volatility: JS %.4f, KS p %.3g: want JS > 0.1 and p < 1e-6", name, d.JS, d.KSP)
		}
		if d.JS <= 5*same[name].JS || d.KSD <= same[name].KSD {
			t.Errorf("%s: drift at 3× volatility (JS %.4f, D %.4f) is not clearly above the same-distribution drift (JS %.4f, D %.4f)",
				name, d.JS, d.KSD, same[name].JS, same[name].KSD)
		}
	}
}

func TestReturnDriftShiftedMeanIsDetected(t *testing.T) {
	train, next := driftTrain()
	// A daily drift of one training standard deviation.
	cols := byColumn(t, ReturnDrift(synthBars(2, 250, next, 0.01, 0.01), train, Config{}))
	for _, name := range []string{ColumnReturnClose, ColumnReturnOpen} {
		if d := cols[name]; d.KSP >= 1e-6 || d.JS <= 0.05 {
			t.Errorf("%s shifted by one σ: JS %.4f, KS p %.3g: want a clear drift", name, d.JS, d.KSP)
		}
	}
}

func TestReturnDriftNeedsTwoReturns(t *testing.T) {
	train, next := driftTrain()
	for _, tc := range []struct {
		rows, want int
	}{{0, 0}, {1, 0}, {2, 0}, {3, 2}} {
		ds := ReturnDrift(synthBars(2, tc.rows, next, 0, 0.01), train, Config{})
		if len(ds) != tc.want {
			t.Errorf("%d new rows: %d entries (%+v), want %d", tc.rows, len(ds), ds, tc.want)
		}
		for _, d := range ds {
			if d.N != tc.rows-1 {
				t.Errorf("%d new rows: %s has N %d", tc.rows, d.Column, d.N)
			}
		}
	}
}

func TestReturnDriftNeedsTrainingReturns(t *testing.T) {
	_, next := driftTrain()
	tiny := Describe(synthBars(1, 2, time.Date(2000, 1, 3, 0, 0, 0, 0, time.UTC), 0, 0.01), 0) // one return
	if ds := ReturnDrift(synthBars(2, 250, next, 0, 0.01), tiny, Config{}); len(ds) != 0 {
		t.Fatalf("drift against a training split of one return: %+v, want none", ds)
	}
	if ds := ReturnDrift(synthBars(2, 250, next, 0, 0.01), Stats{}, Config{}); len(ds) != 0 {
		t.Fatalf("drift against empty statistics: %+v, want none", ds)
	}
}

func TestReturnDriftSkipsMissingPrices(t *testing.T) {
	train, next := driftTrain()
	b := synthBars(2, 250, next, 0, 0.01)
	for _, i := range []int{10, 11, 100} {
		b.Close[i] = math.NaN()
	}
	cols := byColumn(t, ReturnDrift(b, train, Config{}))
	if c := cols[ColumnReturnClose]; c.N != 246 || math.IsNaN(c.JS) || math.IsNaN(c.KSP) {
		t.Fatalf("ret_close with 3 missing closes: %+v, want N 246 and finite numbers", c)
	}
	if o := cols[ColumnReturnOpen]; o.N != 249 {
		t.Fatalf("ret_open: N %d, want 249 (no open missing)", o.N)
	}
}

func TestReturnDriftKSPValueUsesBothSampleSizes(t *testing.T) {
	train, next := driftTrain()
	for _, d := range ReturnDrift(synthBars(2, 250, next, 0, 0.02), train, Config{}) {
		ts, _ := train.Column(d.Column)
		if ts.Count != 1999 {
			t.Fatalf("%s: %d training returns, want 1999", d.Column, ts.Count)
		}
		if want := ksPValue(d.KSD, d.N, ts.Count); d.KSP != want {
			t.Errorf("%s: KS p %v, want %v for %d new and %d training returns", d.Column, d.KSP, want, d.N, ts.Count)
		}
	}
}
