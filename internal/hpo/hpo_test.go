package hpo

import (
	"math"
	"reflect"
	"sort"
	"testing"
)

func TestSamplesAreDeterministicAndInsideTheSpace(t *testing.T) {
	space := DefaultSpace()
	for _, kind := range []string{"random", "tpe"} {
		s, err := New(kind, space, 7)
		if err != nil {
			t.Fatal(err)
		}
		var hist []Observation
		for trial := 0; trial < 60; trial++ {
			a, err := s.Sample(trial, hist)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := s.Sample(trial, hist)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s trial %d: same inputs gave %v and %v", kind, trial, a, b)
			}
			checkInside(t, space, a)
			hist = append(hist, Observation{Point: a, Value: objective(a)})
		}
		p0, _ := s.Sample(0, nil)
		p1, _ := s.Sample(1, nil)
		if reflect.DeepEqual(p0, p1) {
			t.Fatalf("%s: trials 0 and 1 got the same point", kind)
		}
	}
}

func checkInside(t *testing.T, space Space, p Point) {
	t.Helper()
	for _, prm := range space {
		v, ok := p[prm.Name]
		if !ok {
			t.Fatalf("point %v lacks %s", p, prm.Name)
		}
		switch prm.Kind {
		case KindChoice:
			found := false
			for _, c := range prm.Choices {
				found = found || c == v
			}
			if !found {
				t.Fatalf("%s = %v is not a choice", prm.Name, v)
			}
		default:
			if v < prm.Low || v > prm.High || (prm.Kind == KindInt && v != math.Round(v)) {
				t.Fatalf("%s = %v outside [%v, %v] (or not whole)", prm.Name, v, prm.Low, prm.High)
			}
		}
	}
}

func TestRandomLearningRateIsLogUniform(t *testing.T) {
	s := NewRandom(DefaultSpace(), 3)
	below, layers := 0, map[float64]int{}
	const n = 2000
	for i := 0; i < n; i++ {
		p, _ := s.Sample(i, nil)
		if p["learning_rate"] < 1e-3 { // the geometric midpoint of 1e-4..1e-2
			below++
		}
		layers[p["layers"]]++
	}
	if frac := float64(below) / n; frac < 0.45 || frac > 0.55 {
		t.Fatalf("%.3f of learning rates below 1e-3, want about half (log-uniform)", frac)
	}
	if len(layers) != 3 || layers[1] < n/5 || layers[3] < n/5 {
		t.Fatalf("layers drawn %v, want 1, 2 and 3 about equally", layers)
	}
}

// objective has its minimum at lr 1e-3, 96 units, 2 layers.
func objective(p Point) float64 {
	lr := math.Log10(p["learning_rate"]) + 3
	u := (p["units"] - 96) / 32
	l := p["layers"] - 2
	return lr*lr + u*u + l*l + 0.1*p["dropout"]
}

func bestAfter(s Sampler, trials int) float64 {
	var hist []Observation
	best := math.Inf(1)
	for i := 0; i < trials; i++ {
		p, _ := s.Sample(i, hist)
		v := objective(p)
		best = math.Min(best, v)
		hist = append(hist, Observation{Point: p, Value: v})
	}
	return best
}

func TestTPEBeatsRandomSearch(t *testing.T) {
	const seeds = 15
	var tpe, rnd []float64
	wins := 0
	for seed := int64(1); seed <= seeds; seed++ {
		a := bestAfter(NewTPE(DefaultSpace(), seed, TPEOptions{}), 40)
		b := bestAfter(NewRandom(DefaultSpace(), seed), 40)
		tpe, rnd = append(tpe, a), append(rnd, b)
		if a < b {
			wins++
		}
	}
	sort.Float64s(tpe)
	sort.Float64s(rnd)
	t.Logf("best after 40 trials over %d seeds: TPE median %.4f, random median %.4f; TPE better in %d", seeds, tpe[seeds/2], rnd[seeds/2], wins)
	// Observed: TPE better in 11 of 15 seeds, median 0.050 vs 0.063.
	if !(tpe[seeds/2] < rnd[seeds/2]) || wins < 10 {
		t.Fatalf("TPE (median %.4f, %d wins) does not clearly beat random search (median %.4f)", tpe[seeds/2], wins, rnd[seeds/2])
	}
}

func TestTPEStartsRandom(t *testing.T) {
	tp := NewTPE(DefaultSpace(), 9, TPEOptions{Startup: 5})
	r := NewRandom(DefaultSpace(), 9)
	hist := []Observation{{Point: Point{"units": 64, "layers": 2, "dropout": 0.2, "learning_rate": 1e-3, "batch_size": 64}, Value: 1}}
	for trial := 0; trial < 4; trial++ {
		a, _ := tp.Sample(trial, hist)
		b, _ := r.Sample(trial, nil)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("trial %d: TPE before its startup trials should sample like random: %v vs %v", trial, a, b)
		}
	}
}

func TestMedianPruner(t *testing.T) {
	others := [][]float64{{1.0, 0.8, 0.6}, {1.2, 1.0, 0.9}, {0.9, 0.7}}
	for _, tc := range []struct {
		name  string
		p     MedianPruner
		epoch int
		value float64
		want  bool
	}{
		{"worse than median", MedianPruner{Warmup: 1, MinTrials: 2}, 2, 0.95, true},
		{"better kept", MedianPruner{Warmup: 1, MinTrials: 2}, 2, 0.7, false},
		{"equal to median kept", MedianPruner{Warmup: 1, MinTrials: 2}, 2, 0.8, false},
		{"warmup", MedianPruner{Warmup: 2, MinTrials: 1}, 2, 5, false},
		{"too few reached epoch 3", MedianPruner{Warmup: 1, MinTrials: 3}, 3, 5, false},
		{"shorter curves ignored", MedianPruner{Warmup: 1, MinTrials: 2}, 3, 0.7, false},
		{"NaN never pruned", MedianPruner{Warmup: 0, MinTrials: 1}, 1, math.NaN(), false},
	} {
		if got := tc.p.ShouldPrune(tc.epoch, tc.value, others); got != tc.want {
			t.Errorf("%s: ShouldPrune = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBestIgnoresPrunedAndNonFinite(t *testing.T) {
	b, ok := Best([]Observation{{Value: 0.1, Pruned: true}, {Value: math.NaN()}, {Value: 0.5}, {Value: 0.3}})
	if !ok || b.Value != 0.3 {
		t.Fatalf("best = %+v %v", b, ok)
	}
	if _, ok := Best([]Observation{{Value: 1, Pruned: true}}); ok {
		t.Fatal("only pruned trials gave a best")
	}
}

func TestSpaceValidate(t *testing.T) {
	for _, s := range []Space{
		{{Name: "a", Kind: KindInt, Low: 3, High: 3}},
		{{Name: "a", Kind: KindLogFloat, Low: 0, High: 1}},
		{{Name: "a", Kind: "normal", Low: 0, High: 1}},
		{{Name: "a", Kind: KindChoice}},
		{{Name: "a", Kind: KindFloat, Low: 0, High: 1}, {Name: "a", Kind: KindFloat, Low: 0, High: 1}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("space %+v accepted", s)
		}
	}
	if err := DefaultSpace().Validate(); err != nil {
		t.Fatal(err)
	}
}
