package hpo

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func samplers(t *testing.T, seed int64) map[string]Sampler {
	t.Helper()
	out := map[string]Sampler{}
	for _, kind := range []string{"random", "tpe"} {
		s, err := New(kind, DefaultSpace(), seed)
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = s
	}
	return out
}

func TestSameInputsGiveTheSamePointWhateverTheCallOrder(t *testing.T) {
	for kind, s := range samplers(t, 7) {
		hist := search(t, s, 12)
		want, err := s.Sample(12, hist)
		if err != nil {
			t.Fatal(err)
		}
		for trial := 30; trial >= 0; trial-- { // other calls in between, in another order
			if _, err := s.Sample(trial, hist[:trial%13]); err != nil {
				t.Fatal(err)
			}
		}
		again, _ := s.Sample(12, hist)
		fresh, _ := samplers(t, 7)[kind].Sample(12, hist)
		if !reflect.DeepEqual(want, again) || !reflect.DeepEqual(want, fresh) {
			t.Fatalf("%s: trial 12 gave %v, then %v, and %v from a new sampler", kind, want, again, fresh)
		}
		other, _ := samplers(t, 8)[kind].Sample(12, hist)
		if reflect.DeepEqual(want, other) {
			t.Fatalf("%s: seeds 7 and 8 gave the same point %v", kind, want)
		}
	}
}

func TestDifferentTrialsGetDifferentPoints(t *testing.T) {
	for kind, s := range samplers(t, 1) {
		hist := search(t, s, 8)
		seen := map[float64]int{}
		for trial := 0; trial < 50; trial++ {
			p, _ := s.Sample(trial, hist)
			lr := p["learning_rate"]
			if prev, dup := seen[lr]; dup {
				t.Fatalf("%s: trials %d and %d share learning rate %v", kind, prev, trial, lr)
			}
			seen[lr] = trial
		}
	}
}

func TestSampleDoesNotModifyHistory(t *testing.T) {
	s := NewTPE(DefaultSpace(), 2, TPEOptions{})
	hist := search(t, s, 10)
	before := append([]Observation(nil), hist...)
	if _, err := s.Sample(10, hist); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(hist, before) {
		t.Fatal("Sample reordered or changed the caller's history")
	}
}

func TestPointsStayInsideTheSpace(t *testing.T) {
	space := DefaultSpace()
	for kind, s := range samplers(t, 11) {
		hist := search(t, s, 60)
		for i, o := range hist {
			checkInside(t, space, o.Point)
			if i > 0 && kind == "tpe" && i%3 == 0 { // pruned trials too
				hist[i].Pruned, hist[i].Step = true, 2
			}
		}
		for trial := 60; trial < 460; trial++ {
			p, err := s.Sample(trial, hist)
			if err != nil {
				t.Fatal(err)
			}
			checkInside(t, space, p)
		}
	}
}

func TestHostileHistoryStillGivesValidPoints(t *testing.T) {
	space := DefaultSpace()
	hist := []Observation{
		{Point: Point{}, Value: 0.1},
		{Point: Point{"learning_rate": 0, "units": 1e9, "layers": -4, "dropout": math.NaN(), "batch_size": 100}, Value: 0.2},
		{Point: Point{"learning_rate": -1, "units": math.Inf(1), "batch_size": math.NaN()}, Value: 0.3},
		{Point: Point{"learning_rate": 1, "units": -5, "layers": 2.7, "dropout": 9}, Value: math.NaN()},
		{Point: Point{"learning_rate": 1e-3}, Value: math.Inf(1), Pruned: true},
		{Point: Point{"units": 64, "layers": 2}, Value: 0.4},
		{Point: Point{"dropout": 0.2}, Value: 0.5, Pruned: true, Step: 3},
	}
	s := NewTPE(space, 5, TPEOptions{Startup: 2})
	for trial := 0; trial < 200; trial++ {
		p, err := s.Sample(trial, hist)
		if err != nil {
			t.Fatal(err)
		}
		checkInside(t, space, p)
	}
}

func TestRandomIsLogUniformAndCoversEveryLevel(t *testing.T) {
	s := NewRandom(DefaultSpace(), 3)
	const n = 2000
	below, layers, batches := 0, map[float64]int{}, map[float64]int{}
	for i := 0; i < n; i++ {
		p, err := s.Sample(i, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p["learning_rate"] < 1e-3 { // the geometric midpoint of 1e-4..1e-2
			below++
		}
		layers[p["layers"]]++
		batches[p["batch_size"]]++
	}
	// Log-uniform: 50% below 1e-3 (sd ≈ 1.1% for 2000 draws); uniform on
	// the linear scale would put only 9% there.
	if frac := float64(below) / n; frac < 0.46 || frac > 0.54 {
		t.Fatalf("%.3f of learning rates below 1e-3, want about half", frac)
	}
	for _, m := range []map[float64]int{layers, batches} {
		if len(m) != 3 {
			t.Fatalf("levels drawn %v, want exactly 3", m)
		}
		for v, c := range m {
			if c < n/4 || c > n*5/12 { // each a third: 667 ± about 21
				t.Fatalf("level %v drawn %d of %d times, want about a third (%v)", v, c, n, m)
			}
		}
	}
}

func TestNewAndSampleErrors(t *testing.T) {
	if _, err := New("grid", DefaultSpace(), 1); err == nil {
		t.Fatal("unknown sampler kind accepted")
	}
	bad := Space{{Name: "a", Kind: KindLogFloat, Low: 0, High: 1}}
	if _, err := New("tpe", bad, 1); !errors.Is(err, ErrInvalidSpace) {
		t.Fatalf("invalid space: err = %v, want ErrInvalidSpace", err)
	}
	if s, err := New("", DefaultSpace(), 1); err != nil || reflect.TypeOf(s) != reflect.TypeOf(NewTPE(nil, 0, TPEOptions{})) {
		t.Fatalf(`New("") = %T, %v; want the TPE sampler`, s, err)
	}
	for _, s := range []Sampler{NewRandom(bad, 1), NewTPE(bad, 1, TPEOptions{})} {
		if _, err := s.Sample(0, nil); !errors.Is(err, ErrInvalidSpace) {
			t.Fatalf("%T over an invalid space: err = %v", s, err)
		}
		if _, err := s.Sample(-1, nil); err == nil {
			t.Fatalf("%T accepted trial -1", s)
		}
	}
}
