package hpo

import (
	"math"
	"testing"
)

func TestBest(t *testing.T) {
	hist := []Observation{
		{Value: 0.1, Pruned: true},
		{Value: math.NaN()},
		{Value: math.Inf(-1)},
		{Value: 0.5, Point: Point{"id": 3}},
		{Value: 0.3, Point: Point{"id": 4}},
		{Value: 0.3, Point: Point{"id": 5}},
		{Value: math.Inf(1)},
	}
	b, ok := Best(hist)
	if !ok || b.Value != 0.3 || b.Point["id"] != 4 {
		t.Fatalf("Best = %+v, %v; want the first 0.3 (id 4)", b, ok)
	}
	for _, h := range [][]Observation{nil, {{Value: 1, Pruned: true}}, {{Value: math.NaN()}}} {
		if b, ok := Best(h); ok {
			t.Fatalf("Best(%v) = %+v, want none", h, b)
		}
	}
	if b, ok := Best([]Observation{{Value: -2}}); !ok || b.Value != -2 {
		t.Fatalf("a negative loss is still a value: %+v %v", b, ok)
	}
}
