package metrics

import (
	"math"
	"testing"
	"time"
)

func TestDieboldMarianoKnownArrays(t *testing.T) {
	// e1 = [1, -2, 1, 0], e2 = [2, 2, -1, 1]
	// d = e1² − e2² = [1−4, 4−4, 1−1, 0−1] = [−3, 0, 0, −1]; mean = −1
	// deviations [−2, 1, 1, 0]; γ0 = (4+1+1+0)/4 = 1.5
	// h = 1: V = γ0 = 1.5; stat = −1 / sqrt(1.5/4) = −1.632993...
	// p = 2(1 − Φ(1.632993)) = 0.102470...
	stat, p := DieboldMariano([]float64{1, -2, 1, 0}, []float64{2, 2, -1, 1}, 1)
	if math.Abs(stat-(-1/math.Sqrt(1.5/4))) > 1e-12 {
		t.Fatalf("DM stat %v, want %v", stat, -1/math.Sqrt(1.5/4))
	}
	if math.Abs(p-0.10247) > 1e-4 {
		t.Fatalf("DM p-value %v, want 0.10247", p)
	}
	// h = 2 adds 2·γ1: γ1 = ((1)(−2) + (1)(1) + (0)(1))/4 = −0.25; V = 1.5 − 0.5 = 1.0
	stat2, _ := DieboldMariano([]float64{1, -2, 1, 0}, []float64{2, 2, -1, 1}, 2)
	if math.Abs(stat2-(-1/math.Sqrt(1.0/4))) > 1e-12 {
		t.Fatalf("DM stat with h=2 %v, want −2", stat2)
	}
	if s, p := DieboldMariano([]float64{1, 1}, []float64{1, 1}, 1); !math.IsNaN(s) || !math.IsNaN(p) {
		t.Fatalf("equal errors: got %v %v, want NaN (no variance)", s, p)
	}
}

func TestCompareMASEAndDirection(t *testing.T) {
	last := []float64{10, 10, 10, 10}
	actual := []float64{11, 9, 12, 10}
	pred := []float64{10.5, 9.5, 9, 11}
	// model errors: 0.5, 0.5, 3, 1 → MAE 1.25; naive errors: 1, 1, 2, 0 → MAE 1.0; MASE 1.25
	// directions (skip day 4, no move): up/up hit, down/down hit, up/down miss → 2/3
	c, err := Compare(actual, pred, last)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(c.MASE)-1.25) > 1e-12 || math.Abs(float64(c.DirectionalAccuracy)-2.0/3) > 1e-12 {
		t.Fatalf("MASE %v direction %v, want 1.25 and 0.667", c.MASE, c.DirectionalAccuracy)
	}
	if c.Naive.MAE != 1 || c.Model.MAE != 1.25 {
		t.Fatalf("scores %+v / %+v", c.Model, c.Naive)
	}
	if _, err := Compare(actual, pred, last[:2]); err == nil {
		t.Fatal("length mismatch accepted")
	}
}

func TestByYearGroupsTargetsByCalendarYear(t *testing.T) {
	d := func(y int) time.Time { return time.Date(y, 6, 1, 0, 0, 0, 0, time.UTC) }
	dates := []time.Time{d(2020), d(2020), d(2021), d(2021), d(2021)}
	actual := []float64{1, 2, 3, 4, 5}
	s, err := ByYear(dates, actual, actual, []float64{0, 1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].Name != "2020" || s[0].Model.N != 2 || s[1].Name != "2021" || s[1].Model.N != 3 {
		t.Fatalf("slices %+v", s)
	}
	if s[1].Model.RMSE != 0 || s[1].Naive.MAE != 1 {
		t.Fatalf("2021 slice scores %+v", s[1].Comparison)
	}
}

func TestByVolatilitySplitsIntoTerciles(t *testing.T) {
	// A calm stretch then a wild one: the wild days land in "high".
	var last []float64
	v := 100.0
	for i := 0; i < 90; i++ {
		step := 0.001
		if i >= 60 {
			step = 0.05
		}
		if i%2 == 0 {
			step = -step
		}
		v *= math.Exp(step)
		last = append(last, v)
	}
	s, err := ByVolatility(last, last, last, 5)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, x := range s {
		total += x.Model.N
	}
	if total != 85 || s[len(s)-1].Name != "high volatility" {
		t.Fatalf("slices %v cover %d days, want 85 ending in high volatility", s, total)
	}
	if _, err := ByVolatility(last[:6], last[:6], last[:6], 5); err == nil {
		t.Fatal("too few days accepted")
	}
}
