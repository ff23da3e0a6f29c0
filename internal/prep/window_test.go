package prep_test

import (
	"testing"

	"github.com/finsight/finsight/internal/prep"
)

func TestWindowLabelsHorizonStepsAfterWindowEnd(t *testing.T) {
	const n, lookback = 10, 3
	b := seqBars(n)
	raw := b.Open                // 1..10
	scaled := make([]float64, n) // distinct from raw, so a mix-up shows
	for i := range scaled {
		scaled[i] = raw[i] / 100
	}
	for _, horizon := range []int{1, 2, 4} {
		w, err := prep.Window(raw, scaled, b, lookback, horizon)
		if err != nil {
			t.Fatalf("horizon %d: %v", horizon, err)
		}
		wantN := n - lookback - horizon + 1
		if w.Len() != wantN || len(w.X) != wantN*lookback || w.Lookback != lookback || w.Features != 1 {
			t.Fatalf("horizon %d: %d windows, %d inputs, lookback %d, features %d; want %d windows of %d",
				horizon, w.Len(), len(w.X), w.Lookback, w.Features, wantN, lookback)
		}
		for i := 0; i < wantN; i++ {
			for j := 0; j < lookback; j++ {
				if got, want := w.X[i*lookback+j], float32(scaled[i+j]); got != want {
					t.Fatalf("horizon %d window %d step %d = %v, want %v", horizon, i, j, got, want)
				}
			}
			end := i + lookback - 1 // last step of the window
			label := end + horizon
			if w.Y[i] != float32(scaled[label]) {
				t.Errorf("horizon %d window %d: y = %v, want scaled[%d] = %v", horizon, i, w.Y[i], label, scaled[label])
			}
			if w.Target[i] != raw[label] {
				t.Errorf("horizon %d window %d: target = %v, want raw[%d] = %v", horizon, i, w.Target[i], label, raw[label])
			}
			if w.Last[i] != raw[end] {
				t.Errorf("horizon %d window %d: last = %v, want raw[%d] = %v", horizon, i, w.Last[i], end, raw[end])
			}
			if !w.TargetDate[i].Equal(b.Date[label]) {
				t.Errorf("horizon %d window %d: target date %v, want %v", horizon, i, w.TargetDate[i], b.Date[label])
			}
		}
	}
}

func TestWindowErrors(t *testing.T) {
	b := seqBars(5)
	vs := b.Open
	tests := []struct {
		name              string
		raw, scaled       []float64
		lookback, horizon int
	}{
		{"one row short", vs, vs, 4, 2}, // needs 4+2 = 6 rows
		{"zero lookback", vs, vs, 0, 1},
		{"zero horizon", vs, vs, 2, 0},
		{"scaled length differs", vs, vs[:4], 2, 1},
		{"raw length differs from rows", vs[:4], vs[:4], 2, 1},
	}
	for _, tc := range tests {
		if _, err := prep.Window(tc.raw, tc.scaled, b, tc.lookback, tc.horizon); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	w, err := prep.Window(vs, vs, b, 4, 1) // exactly enough rows
	if err != nil {
		t.Fatalf("5 rows, lookback 4, horizon 1: %v", err)
	}
	if w.Len() != 1 {
		t.Errorf("5 rows, lookback 4, horizon 1: %d windows, want 1", w.Len())
	}
}

func TestLastWindowScalesMostRecentValues(t *testing.T) {
	s := prep.MinMax{Min: 10, Max: 20}
	got, err := prep.LastWindow(s, []float64{11, 12, 18, 19, 20}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0.8, 0.9, 1}
	if len(got) != len(want) {
		t.Fatalf("window = %v, want %v", got, want)
	}
	for i := range want {
		if d := got[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("window = %v, want %v", got, want)
		}
	}
	if _, err := prep.LastWindow(s, []float64{11, 12}, 3); err == nil {
		t.Fatal("2 values for a 3-step window: no error")
	}
}
