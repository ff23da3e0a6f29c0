package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
)

// --levels sets the prediction-interval levels of the run: the defaults
// spelled out keep the id of a request without them, other levels make
// another run, and bad ones are refused naming the flag, before anything
// is uploaded.
func TestTrainLevelsFlag(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "a.csv")
	if err := os.WriteFile(csv, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--ticker", "NFLX", "--csv", csv}
	env := map[string]string{"FINSIGHT_STORE": t.TempDir()}
	parse := func(args ...string) (trainRequest, error) {
		return parseTrain(context.Background(), append(slices.Clone(base), args...), config.FromEnv(func(k string) string { return env[k] }))
	}
	plain, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	defaults, err := parse("--levels", "0.8, 0.95")
	if err != nil {
		t.Fatal(err)
	}
	if defaults.id != plain.id || defaults.in.IntervalLevels != nil {
		t.Errorf("--levels 0.8,0.95: id %s, levels %v; want the default request's id %s and no levels", defaults.id, defaults.in.IntervalLevels, plain.id)
	}
	other, err := parse("--levels", "0.5,0.9,0.99")
	if err != nil {
		t.Fatal(err)
	}
	if other.id == plain.id || !slices.Equal(other.in.IntervalLevels, []float64{0.5, 0.9, 0.99}) {
		t.Errorf("--levels 0.5,0.9,0.99: id %s (default %s), levels %v", other.id, plain.id, other.in.IntervalLevels)
	}
	env["FINSIGHT_STORE"] = t.TempDir() // bad requests upload nothing
	for _, bad := range []string{"1", "0", "0.8,x", "0.9,0.9", "0.1,0.2,0.3,0.4,0.5,0.6", "-0.5"} {
		if _, err := parse("--levels", bad); err == nil || !strings.HasPrefix(err.Error(), "--levels:") {
			t.Errorf("--levels %s: error %v, want one that names --levels", bad, err)
		}
	}
	if entries, err := os.ReadDir(env["FINSIGHT_STORE"]); err != nil || len(entries) != 0 {
		t.Errorf("refused requests left %v in the store (%v)", entries, err)
	}
}

// --gate and --alpha choose the promotion gate: split spelled out keeps
// the default id, backtest (with its alpha) makes another run, and what
// cannot be honoured is refused naming the flag.
func TestTrainGateFlags(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "a.csv")
	if err := os.WriteFile(csv, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FINSIGHT_STORE": t.TempDir()}
	parse := func(args ...string) (trainRequest, error) {
		return parseTrain(context.Background(), append([]string{"--ticker", "NFLX", "--csv", csv}, args...), config.FromEnv(func(k string) string { return env[k] }))
	}
	plain, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	split, err := parse("--gate", "split")
	if err != nil || split.id != plain.id || split.in.Gate != "" {
		t.Errorf("--gate split: id %s gate %q (%v), want the default request's id %s", split.id, split.in.Gate, err, plain.id)
	}
	bt, err := parse("--gate", "backtest", "--alpha", "0.01")
	if err != nil || bt.id == plain.id || bt.in.Gate != "backtest" || bt.in.Alpha != 0.01 {
		t.Errorf("--gate backtest --alpha 0.01: id %s gate %q alpha %v (%v)", bt.id, bt.in.Gate, bt.in.Alpha, err)
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--gate", "vibes"}, "--gate:"},
		{[]string{"--gate", "vibes", "--alpha", "0.1"}, "--gate:"},
		{[]string{"--alpha", "0.1"}, "--alpha:"},
		{[]string{"--gate", "backtest", "--alpha", "1"}, "--alpha:"},
		{[]string{"--gate", "backtest", "--alpha", "-0.1"}, "--alpha:"},
	} {
		if _, err := parse(tc.args...); err == nil || !strings.HasPrefix(err.Error(), tc.flag) {
			t.Errorf("%v: error %v, want one that starts %s", tc.args, err, tc.flag)
		}
	}
}

// The train summary shows each level's test coverage and mean width,
// model beside naive; a result without intervals shows none.
func TestTrainingResultShowsIntervals(t *testing.T) {
	r := pipeline.TrainingResult{Ticker: "NFLX", ModelVersion: 2, Raw: blob.Ref{SHA256: strings.Repeat("a", 64)}}
	var plain bytes.Buffer
	printTrainingResult(&plain, r)
	if strings.Contains(plain.String(), "interval") {
		t.Errorf("no intervals, yet:\n%s", plain.String())
	}
	r.Metrics.Intervals = &metrics.Intervals{Model: []conformal.Band{{Level: 0.8, HalfWidth: 0.01, N: 468}},
		Test: []metrics.IntervalTest{{Level: 0.8, ModelCoverage: 0.783, NaiveCoverage: 0.782, ModelWidth: 21.7939, NaiveWidth: 21.8982, N: 989}}}
	var out bytes.Buffer
	printTrainingResult(&out, r)
	for _, want := range []string{"calibrated on 468 validation residuals", "80.0%: coverage model  78.3% naive  78.2%, mean width model 21.7939 naive 21.8982"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
