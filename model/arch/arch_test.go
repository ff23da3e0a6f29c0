package arch

import "testing"

func TestValidateNamesTheFirstBadField(t *testing.T) {
	ok := Config{Features: 1, Lookback: 50, Layers: 2, Units: 64, Dropout: 0.2}
	if err := ok.Validate(); err != nil {
		t.Fatalf("%+v: %v", ok, err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Lookback: 1, Layers: 1, Units: 1}, "features must be at least 1, got 0"},
		{Config{Features: 1, Layers: 1, Units: 1}, "lookback must be at least 1, got 0"},
		{Config{Features: 1, Lookback: 1, Layers: 9, Units: 1}, "layers must be 1..8, got 9"},
		{Config{Features: 1, Lookback: 1, Layers: 1, Units: 4097}, "units must be 1..4096, got 4097"},
		{Config{Features: 1, Lookback: 1, Layers: 1, Units: 1, Dropout: 1}, "dropout must be in [0, 1), got 1"},
	} {
		if err := c.cfg.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestSameShapeIgnoresDropoutAndSeed(t *testing.T) {
	a := Config{Features: 1, Lookback: 50, Layers: 2, Units: 64, Dropout: 0.2, Seed: 1}
	b := a
	b.Dropout, b.Seed = 0, 7
	if !a.SameShape(b) {
		t.Fatalf("%+v and %+v differ only in dropout and seed", a, b)
	}
	b.Units = 32
	if a.SameShape(b) {
		t.Fatalf("%+v and %+v have different units", a, b)
	}
	if got, want := a.Describe(), "2×LSTM(64) over 50 steps × 1 features"; got != want {
		t.Fatalf("Describe = %q, want %q", got, want)
	}
}
