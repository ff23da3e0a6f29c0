package validate

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

var driftRules = []string{RuleDriftJS, RuleDriftKS, RuleMeanShift, RuleStdShift}

// trainAndSplit generates 2000 training bars (σ = 1%, no drift) and a
// 300-row split that follows them with the given drift and volatility.
func trainAndSplit(t *testing.T, seed uint64, drift, sigma float64) (train, split *frame.Bars) {
	t.Helper()
	train = synthBars(1, 2000, time.Date(2000, 1, 3, 0, 0, 0, 0, time.UTC), 0, 0.01)
	next := train.Date[train.Len()-1].AddDate(0, 0, 1)
	return train, synthBars(seed, 300, next, drift, sigma)
}

// driftFound returns the drift-rule anomalies of ret_close.
func driftFound(as []Anomaly) map[string]Anomaly {
	m := map[string]Anomaly{}
	for _, a := range as {
		for _, r := range driftRules {
			if a.Rule == r && a.Column == ColumnReturnClose {
				m[r] = a
			}
		}
	}
	return m
}

func TestDetectNoDriftOnSamples(t *testing.T) {
	cfg := DefaultConfig()
	for seed := uint64(2); seed < 12; seed++ {
		train, split := trainAndSplit(t, seed, 0, 0.01)
		as := Detect(split, InferSchema(train), Describe(train, cfg.Bins), cfg)
		for _, a := range as {
			if a.Severity != SeverityInfo { // out_of_range of trending prices is fine
				t.Errorf("seed %d: same distribution flagged: %+v", seed, a)
			}
		}
	}
}

func TestDetectFlagsHigherVolatility(t *testing.T) {
	cfg := DefaultConfig()
	train, split := trainAndSplit(t, 2, 0, 0.03)
	found := driftFound(Detect(split, InferSchema(train), Describe(train, cfg.Bins), cfg))
	for _, r := range []string{RuleDriftJS, RuleDriftKS, RuleStdShift} {
		a, ok := found[r]
		if !ok || a.Severity != SeverityWarning || a.Row != WholeSplit || a.Date != "" {
			t.Errorf("volatility ×3: want a whole-split %s warning, got %+v", r, found)
		}
	}
	if r := found[RuleStdShift].Value; r < 2.5 || r > 3.5 {
		t.Errorf("std ratio %v, want ≈ 3", r)
	}
	if js := found[RuleDriftJS].Value; js <= cfg.JSThreshold || js > 1 {
		t.Errorf("JS %v out of (threshold, 1]", js)
	}
	if _, ok := found[RuleMeanShift]; ok {
		t.Errorf("no drift in the mean, yet mean_shift: %+v", found[RuleMeanShift])
	}
}

func TestDetectFlagsMeanDrift(t *testing.T) {
	cfg := DefaultConfig()
	train, split := trainAndSplit(t, 3, 0.01, 0.01) // +1σ a day
	found := driftFound(Detect(split, InferSchema(train), Describe(train, cfg.Bins), cfg))
	for _, r := range []string{RuleMeanShift, RuleDriftKS} {
		if _, ok := found[r]; !ok {
			t.Errorf("mean drift: want %s, got %+v", r, found)
		}
	}
	if k := found[RuleMeanShift].Value; k < cfg.MeanShiftK {
		t.Errorf("mean shift %v standard errors, want > %v", k, cfg.MeanShiftK)
	}
	if _, ok := found[RuleStdShift]; ok {
		t.Errorf("same volatility, yet std_shift: %+v", found[RuleStdShift])
	}
}

func TestDetectThresholdsAreConfigurable(t *testing.T) {
	train, split := trainAndSplit(t, 2, 0, 0.03)
	cfg := Config{JSThreshold: 0.99, KSPValue: 1e-300, StdRatio: 5}
	if found := driftFound(Detect(split, InferSchema(train), Describe(train, 0), cfg)); len(found) != 0 {
		t.Fatalf("loose thresholds: want no drift, got %+v", found)
	}
	cfg = Config{MinSamples: 301}
	if found := driftFound(Detect(split, InferSchema(train), Describe(train, 0), cfg)); len(found) != 0 {
		t.Fatalf("300 returns < MinSamples 301: want no drift check, got %+v", found)
	}
}

func TestDetectOutlierReturnInSplit(t *testing.T) {
	cfg := DefaultConfig()
	train, split := trainAndSplit(t, 4, 0, 0.01)
	const r = 120
	split.Close[r] *= 0.5 // a bad tick: close halved, the rest of the row intact
	split.AdjClose[r] *= 0.5
	as := Detect(split, InferSchema(train), Describe(train, cfg.Bins), cfg)
	out := withRule(as, RuleOutlierReturn)
	if len(out) != 2 || out[0].Row != r || out[1].Row != r+1 || out[0].Column != "close" {
		t.Fatalf("want outlier returns into and out of row %d, got %+v", r, out)
	}
	if out[0].Value > -8 || !strings.Contains(out[0].Detail, "bad tick") || !strings.Contains(out[1].Detail, "back from a bad tick") {
		t.Fatalf("details: %+v", out)
	}
	if _, ok := findAnomaly(as, RuleLowAboveOC, split.Date[r].Format(frame.DateLayout), "low"); !ok {
		t.Fatal("the bad tick also breaks low ≤ min(open, close)")
	}
}

func TestDetectSchemaMismatch(t *testing.T) {
	cfg := DefaultConfig()
	train, split := trainAndSplit(t, 5, 0, 0.01)
	schema := InferSchema(train)
	for i := range split.Volume {
		split.Volume[i] = math.NaN()
	}
	as := Detect(split, schema, Describe(train, 0), cfg)
	crit := Critical(as)
	if len(crit) != 1 || crit[0].Rule != RuleSchemaMismatch || crit[0].Column != ColumnVolume || crit[0].Row != WholeSplit {
		t.Fatalf("all-missing volume: want one critical schema_mismatch, got %+v", crit)
	}
	if n := len(withRule(as, RuleMissingValue)); n != split.Len() {
		t.Fatalf("want %d missing_value rows, got %d", split.Len(), n)
	}

	schema.Columns = append(schema.Columns, ColumnSchema{Name: "bid", Type: TypeFloat64})
	if crit := Critical(Detect(synthBars(5, 300, split.Date[0], 0, 0.01), schema, Describe(train, 0), cfg)); len(crit) != 1 || crit[0].Column != "bid" {
		t.Fatalf("unknown schema column: want one critical, got %+v", crit)
	}
	if crit := Critical(Detect(split, Schema{}, Describe(train, 0), cfg)); len(crit) == 0 {
		t.Fatal("empty schema must be critical")
	}
}

func TestDetectRangeExcursionIsInfo(t *testing.T) {
	cfg := DefaultConfig()
	train, split := trainAndSplit(t, 6, 0, 0.01)
	for _, col := range [][]float64{split.Open, split.High, split.Low, split.Close, split.AdjClose} {
		for i := range col {
			col[i] *= 10 // prices trend: far above training, still no schema mismatch
		}
	}
	as := Detect(split, InferSchema(train), Describe(train, cfg.Bins), cfg)
	if crit := Critical(as); len(crit) != 0 {
		t.Fatalf("range excursion must not be critical: %+v", crit)
	}
	a, ok := findAnomaly(as, RuleOutOfRange, "", ColumnClose)
	if !ok || a.Severity != SeverityInfo || a.Value == 0 {
		t.Fatalf("want out_of_range info on close, got %+v", as)
	}
	if _, ok := findAnomaly(as, RuleOutOfRange, "", ColumnVolume); ok {
		t.Fatal("volume stayed in range")
	}
}

func TestConfigDefaultsAndValidate(t *testing.T) {
	if got := (Config{}).withDefaults(); got != DefaultConfig() {
		t.Fatalf("zero config: %+v", got)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"negative z":   {OutlierZ: -1},
		"NaN js":       {JSThreshold: math.NaN()},
		"std ratio ≤1": {StdRatio: 0.5},
		"js above 1":   {JSThreshold: 2},
		"p of 1":       {KSPValue: 1},
	} {
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "validate config") {
			t.Errorf("%s: want an error, got %v", name, err)
		}
	}
}
