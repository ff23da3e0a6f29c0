package pipeline_test

import (
	"reflect"

	"github.com/finsight/finsight/internal/prep"
	"testing"

	"github.com/finsight/finsight/internal/pipeline"
)

func TestNormalizeTickerAccepts(t *testing.T) {
	tests := map[string]string{
		"nflx":            "NFLX",
		" aapl ":          "AAPL",
		"BRK.B":           "BRK.B",
		"^GSPC":           "^GSPC",
		"BF-B":            "BF-B",
		"TOOLONGTICKER15": "TOOLONGTICKER15", // exactly 15
	}
	for in, want := range tests {
		got, err := pipeline.NormalizeTicker(in)
		if err != nil {
			t.Errorf("NormalizeTicker(%q): %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("NormalizeTicker(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeTickerRejects(t *testing.T) {
	for _, in := range []string{
		"", "   ", "../etc", "A/B", `A\B`, "TOOLONGTICKER1234", "a b", "..", "A..B",
		".", // would make the key segment "." in models/./v1
		"-", "^",
		"NFLX\x00", "ÄPFEL", "A_B",
	} {
		if got, err := pipeline.NormalizeTicker(in); err == nil {
			t.Errorf("NormalizeTicker(%q) = %q, want an error", in, got)
		}
	}
}

func TestWithDefaultsFillsZeroFields(t *testing.T) {
	got := pipeline.TrainingInput{Ticker: "NFLX"}.WithDefaults()
	if got.Train != 0.7 || got.Val != 0.1 || got.Test != 0.2 {
		t.Errorf("fractions %v/%v/%v, want 0.7/0.1/0.2", got.Train, got.Val, got.Test)
	}
	if got.Lookback != 50 || got.Horizon != 1 {
		t.Errorf("lookback %d horizon %d, want 50 and 1", got.Lookback, got.Horizon)
	}
	m := got.Model
	if m.Layers != 2 || m.Units != 64 || m.Epochs != 10 || m.BatchSize != 64 || m.LearningRate != 1e-3 || m.Seed != 1 {
		t.Errorf("model params %+v, want 2×64, 10 epochs, batch 64, lr 1e-3, seed 1", m)
	}
	if got.Ticker != "NFLX" {
		t.Errorf("ticker %q, want NFLX", got.Ticker)
	}
}

func TestWithDefaultsKeepsGivenValues(t *testing.T) {
	in := pipeline.TrainingInput{
		Ticker: "AAPL", CSVKey: "uploads/x.csv", Source: "x.csv",
		Train: 0.6, Val: 0.2, Test: 0.2, Lookback: 30, Horizon: 5,
		Clean:     prep.CleanSpec{Missing: prep.MissingDrop, Outliers: prep.OutlierSpec{Method: prep.OutlierIQR, K: 3, Strategy: prep.OutlierClip}},
		Transform: prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"open", "volume"}},
		Model: pipeline.ModelParams{Layers: 3, Units: 16, Dropout: 0.1, Epochs: 2,
			BatchSize: 8, LearningRate: 0.01, Seed: 7},
	}
	if got := in.WithDefaults(); !reflect.DeepEqual(got, in) {
		t.Fatalf("WithDefaults changed given values:\n got %+v\nwant %+v", got, in)
	}
}

func TestWithDefaultsFillsOnlyTheZeroModelFields(t *testing.T) {
	in := pipeline.TrainingInput{Model: pipeline.ModelParams{Units: 16, Epochs: 3}}
	m := in.WithDefaults().Model
	if m.Units != 16 || m.Epochs != 3 {
		t.Errorf("given units/epochs became %d/%d, want 16/3", m.Units, m.Epochs)
	}
	if m.Layers != 2 || m.BatchSize != 64 {
		t.Errorf("zero layers/batch became %d/%d, want 2/64", m.Layers, m.BatchSize)
	}
}
