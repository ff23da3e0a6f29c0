package hpo

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestSpaceValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		space Space
		want  string
	}{
		{"low equals high", Space{{Name: "a", Kind: KindInt, Low: 3, High: 3}}, "below high"},
		{"low above high", Space{{Name: "a", Kind: KindFloat, Low: 2, High: 1}}, "below high"},
		{"log low zero", Space{{Name: "a", Kind: KindLogFloat, Low: 0, High: 1}}, "low > 0"},
		{"log low negative", Space{{Name: "a", Kind: KindLogFloat, Low: -1, High: 1}}, "low > 0"},
		{"unknown kind", Space{{Name: "a", Kind: "normal", Low: 0, High: 1}}, "unknown kind"},
		{"empty choices", Space{{Name: "a", Kind: KindChoice}}, "no choices"},
		{"duplicate choice", Space{{Name: "a", Kind: KindChoice, Choices: []float64{1, 2, 1}}}, "twice"},
		{"NaN choice", Space{{Name: "a", Kind: KindChoice, Choices: []float64{math.NaN()}}}, "finite"},
		{"duplicate name", Space{{Name: "a", Kind: KindFloat, Low: 0, High: 1}, {Name: "a", Kind: KindInt, Low: 0, High: 1}}, "twice"},
		{"no name", Space{{Kind: KindFloat, Low: 0, High: 1}}, "no name"},
		{"infinite bound", Space{{Name: "a", Kind: KindFloat, Low: 0, High: math.Inf(1)}}, "finite"},
		{"NaN bound", Space{{Name: "a", Kind: KindFloat, Low: math.NaN(), High: 1}}, "finite"},
		{"fractional int bound", Space{{Name: "a", Kind: KindInt, Low: 1.5, High: 3}}, "whole"},
	} {
		err := tc.space.Validate()
		if err == nil {
			t.Errorf("%s: %+v accepted", tc.name, tc.space)
			continue
		}
		if !errors.Is(err, ErrInvalidSpace) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want ErrInvalidSpace mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestDefaultSpaceIsValidAndSerialisable(t *testing.T) {
	s := DefaultSpace()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range s {
		names = append(names, p.Name)
	}
	if want := []string{"units", "layers", "dropout", "learning_rate", "batch_size"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("parameters %v, want %v in that order", names, want)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Space
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("JSON round trip changed the space:\n%s\n%+v", raw, back)
	}
}

func TestCoordinatesRoundTripAndClip(t *testing.T) {
	lr := Param{Name: "lr", Kind: KindLogFloat, Low: 1e-4, High: 1e-2}
	if c, ok := lr.coord(1e-3); !ok || math.Abs(lr.value(c)-1e-3) > 1e-15 {
		t.Fatalf("1e-3 → %v (%v) → %v", c, ok, lr.value(c))
	}
	if _, ok := lr.coord(0); ok {
		t.Fatal("0 has no log coordinate")
	}
	if c, _ := lr.coord(5); lr.value(c) != 1e-2 {
		t.Fatalf("out-of-range 5 should clip to 1e-2, got %v", lr.value(c))
	}
	units := Param{Name: "u", Kind: KindInt, Low: 32, High: 128}
	for c, want := range map[float64]float64{31.5: 32, 64.49: 64, 64.5: 65, 128.5: 128} {
		if got := units.value(c); got != want {
			t.Errorf("int coordinate %v → %v, want %v", c, got, want)
		}
	}
}
