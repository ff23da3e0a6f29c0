package hpo

import (
	"math"
	"math/rand"
	"testing"
)

func TestParzenIsADensityOverItsRange(t *testing.T) {
	pts := []float64{0.2, 0.25, 0.9}
	p := newParzen(pts, 0, 1, false)
	if len(p.mus) != 4 || p.mus[3] != 0.5 || p.sigmas[3] != 1 {
		t.Fatalf("want the 3 points plus a prior at 0.5 with sigma 1, got %v %v", p.mus, p.sigmas)
	}
	// Bandwidths: the larger neighbour gap, the outermost points their inner
	// gap, never below 1/min(100, 3+2) = 0.2.
	for i, want := range []float64{0.2, 0.65, 0.65} {
		if math.Abs(p.sigmas[i]-want) > 1e-12 {
			t.Errorf("sigma of %v = %v, want %v", p.mus[i], p.sigmas[i], want)
		}
	}
	const n = 20000
	integral := 0.0
	for i := 0; i < n; i++ {
		integral += math.Exp(p.logDensity((float64(i)+0.5)/n)) / n
	}
	if math.Abs(integral-1) > 1e-3 {
		t.Fatalf("density integrates to %v over [0, 1]", integral)
	}
	if !(p.logDensity(0.22) > p.logDensity(0.6)) {
		t.Fatal("density not higher near the clustered points")
	}
	rng := rand.New(rand.NewSource(1))
	near := 0
	for i := 0; i < 4000; i++ {
		x := p.sample(rng)
		if x < 0 || x > 1 {
			t.Fatalf("sample %v outside [0, 1]", x)
		}
		if x < 0.4 {
			near++
		}
	}
	if near < 1600 { // 2 of 4 kernels sit there; uniform would give 1600
		t.Fatalf("only %d of 4000 samples below 0.4", near)
	}
}

func TestDiscreteParzenMassesSumToOne(t *testing.T) {
	p := newParzen([]float64{2, 2, 3}, 0.5, 3.5, true) // ints 1..3
	sum := 0.0
	for _, k := range []float64{1, 2, 3} {
		sum += math.Exp(p.logDensity(k))
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Fatalf("masses of 1, 2, 3 sum to %v", sum)
	}
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 1000; i++ {
		if x := p.sample(rng); x != 1 && x != 2 && x != 3 {
			t.Fatalf("discrete sample %v", x)
		}
	}
}

func TestCategoricalSmoothing(t *testing.T) {
	c := newCategorical([]int{0, 0, 1}, 3)
	// ((count + n/k)/2 + 1/k)/(n+1) with n = 3, k = 3.
	want := []float64{(2+1)/2.0/4 + 1.0/12, (1+1)/2.0/4 + 1.0/12, (0+1)/2.0/4 + 1.0/12}
	sum := 0.0
	for i := range c {
		sum += c[i]
		if math.Abs(c[i]-want[i]) > 1e-12 {
			t.Fatalf("probabilities %v, want %v", c, want)
		}
	}
	if math.Abs(sum-1) > 1e-12 || c[2] <= 0 {
		t.Fatalf("probabilities %v: sum %v, unseen choice must stay possible", c, sum)
	}
	if empty := newCategorical(nil, 4); empty[0] != 0.25 || empty[3] != 0.25 {
		t.Fatalf("no observations should be uniform, got %v", empty)
	}
}
