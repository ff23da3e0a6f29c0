package prep_test

import (
	"math"
	"testing"

	"github.com/finsight/finsight/internal/prep"
)

func TestFitMinMaxUsesTrainingRangeOnly(t *testing.T) {
	s, err := prep.FitMinMax("open", []float64{30, 10, 20})
	if err != nil {
		t.Fatal(err)
	}
	if s != (prep.MinMax{Feature: "open", Min: 10, Max: 30}) {
		t.Fatalf("scaler = %+v, want open 10..30", s)
	}
	// Later values outside the training range extrapolate, they do not refit.
	for _, tc := range []struct{ in, want float64 }{{10, 0}, {20, 0.5}, {30, 1}, {40, 1.5}, {0, -0.5}} {
		if got := s.Transform(tc.in); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Transform(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFitMinMaxErrors(t *testing.T) {
	tests := map[string][]float64{
		"constant": {5, 5, 5},
		"nan":      {1, math.NaN(), 3},
		"inf":      {1, math.Inf(1)},
		"empty":    nil,
	}
	for name, train := range tests {
		if _, err := prep.FitMinMax("open", train); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMinMaxInverseUndoesTransform(t *testing.T) {
	s := prep.MinMax{Feature: "open", Min: 12.5, Max: 310.25}
	for _, v := range []float64{12.5, 13, 100.125, 310.25, 400, 1} {
		if got := s.Inverse(s.Transform(v)); math.Abs(got-v) > 1e-9 {
			t.Errorf("Inverse(Transform(%v)) = %v", v, got)
		}
	}
}

func TestTransformAllMatchesTransformIntoNewSlice(t *testing.T) {
	s := prep.MinMax{Min: 0, Max: 4}
	in := []float64{0, 1, 2, 4}
	out := s.TransformAll(in)
	if want := []float64{0, 0.25, 0.5, 1}; !sameFloats(out, want) {
		t.Fatalf("TransformAll = %v, want %v", out, want)
	}
	if in[1] != 1 {
		t.Fatalf("input changed to %v", in)
	}
}

func TestCoverage(t *testing.T) {
	s := prep.MinMax{Min: 10, Max: 20}
	tests := []struct {
		vs   []float64
		want float64
	}{
		{[]float64{10, 15, 20}, 1}, // bounds are inside
		{[]float64{9, 15, 21, 20}, 0.5},
		{[]float64{5, 25}, 0},
		{nil, 1},
	}
	for _, tc := range tests {
		if got := s.Coverage(tc.vs); got != tc.want {
			t.Errorf("Coverage(%v) = %v, want %v", tc.vs, got, tc.want)
		}
	}
}
