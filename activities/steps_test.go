package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/steps"
)

type harness struct {
	t    *testing.T
	acts *Activities
	env  *testsuite.TestActivityEnvironment
}

func newHarness(t *testing.T) *harness {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	acts := New(store, gotch.CPU)
	env.RegisterActivity(acts)
	return &harness{t: t, acts: acts, env: env}
}

// run executes one activity and decodes its result into out.
func (h *harness) run(fn, in, out any) error {
	h.t.Helper()
	v, err := h.env.ExecuteActivity(fn, in)
	if err != nil {
		return err
	}
	return v.Get(out)
}

func (h *harness) upload(csv string) string {
	key := pipeline.UploadKey(blob.ContentHash([]byte(csv)))
	if err := blob.PutBytes(context.Background(), h.acts.Store, key, []byte(csv)); err != nil {
		h.t.Fatal(err)
	}
	return key
}

// yahooCSV makes n weekday rows of a rising price; rows in nullRows are "null".
func yahooCSV(n int, nullRows ...int) string {
	var b strings.Builder
	b.WriteString("Date,Open,High,Low,Close,Adj Close,Volume\n")
	isNull := map[int]bool{}
	for _, r := range nullRows {
		isNull[r] = true
	}
	for i := 0; i < n; i++ {
		date := fmt.Sprintf("2020-%02d-%02d", 1+i/20, 1+i%20)
		if isNull[i] {
			fmt.Fprintf(&b, "%s,null,null,null,null,null,null\n", date)
			continue
		}
		o := 10 + float64(i) + math.Sin(float64(i))
		fmt.Fprintf(&b, "%s,%.4f,%.4f,%.4f,%.4f,%.4f,%d\n", date, o, o+1, o-1, o+0.5, o+0.5, 1000+i)
	}
	return b.String()
}

func assertAppError(t *testing.T, err error, kind string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != kind || !appErr.NonRetryable() {
		t.Fatalf("error %v: want a non-retryable %s application error", err, kind)
	}
}

func TestIngestBothHeadersAndNullRows(t *testing.T) {
	h := newHarness(t)
	kaggle := "date,open,high,low,close,volume,Name\n" +
		"2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL\n" +
		"2013-02-11,14.89,15.01,14.26,14.46,8882000,AAL\n" +
		"2013-02-12,,14.51,14.1,14.27,8126000,AAL\n"
	for _, tc := range []struct {
		name, ticker, csv string
		rows, missing     int
	}{
		{"yahoo with null row", "NFLX", yahooCSV(30, 4), 30, 6},
		{"kaggle with empty field", "AAL", kaggle, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res steps.IngestResult
			if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: tc.ticker, CSVKey: h.upload(tc.csv)}, &res); err != nil {
				t.Fatal(err)
			}
			if res.Raw.Rows != tc.rows || res.Missing != tc.missing {
				t.Fatalf("rows %d missing %d, want %d and %d", res.Raw.Rows, res.Missing, tc.rows, tc.missing)
			}
			if !strings.HasPrefix(res.Raw.Key, "data/raw/"+tc.ticker+"/") || !strings.HasSuffix(res.Raw.Key, res.Raw.SHA256+".arrow") {
				t.Fatalf("raw key %s is not data/raw/<ticker>/<sha256>.arrow", res.Raw.Key)
			}
			bars, err := h.acts.readBars(context.Background(), res.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if bars.Len() != tc.rows {
				t.Fatalf("stored %d rows", bars.Len())
			}
		})
	}
}

func TestIngestSameBytesGiveOneVersion(t *testing.T) {
	h := newHarness(t)
	key := h.upload(yahooCSV(20))
	var a, b steps.IngestResult
	if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "X", CSVKey: key}, &a); err != nil {
		t.Fatal(err)
	}
	if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "X", CSVKey: key}, &b); err != nil {
		t.Fatal(err)
	}
	keys, err := h.acts.Store.List(context.Background(), "data/raw/X/")
	if err != nil {
		t.Fatal(err)
	}
	if a.Raw != b.Raw || len(keys) != 1 {
		t.Fatalf("two ingests of one file gave %v and %v, %d stored objects", a.Raw, b.Raw, len(keys))
	}
}

func TestIngestRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	shuffled := "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,1,1,1,1,1,1\n2020-01-06,1,1,1,1,1,1\n2020-01-03,1,1,1,1,1,1\n"
	var res steps.IngestResult
	err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "X", CSVKey: h.upload(shuffled)}, &res)
	assertAppError(t, err, steps.ErrInvalidData)
	if !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("error does not say why: %v", err)
	}
	assertAppError(t, h.run(h.acts.Ingest, steps.IngestInput{Ticker: "X", CSVKey: h.upload("Date,Close\n")}, &res), steps.ErrInvalidData)
	assertAppError(t, h.run(h.acts.Ingest, steps.IngestInput{Ticker: "X", CSVKey: "uploads/missing.csv"}, &res), steps.ErrNotFound)
	assertAppError(t, h.run(h.acts.Ingest, steps.IngestInput{Ticker: "../x", CSVKey: "uploads/missing.csv"}, &res), steps.ErrInvalidParams)
}

// prepared runs ingest → split → clean → scale → window on an in-test CSV.
func (h *harness) prepared(csv string, lookback int, spec prep.TransformSpec) (steps.IngestResult, steps.Splits, steps.CleanResult, steps.ScaleResult, steps.Splits) {
	h.t.Helper()
	var ing steps.IngestResult
	if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "T", CSVKey: h.upload(csv)}, &ing); err != nil {
		h.t.Fatal(err)
	}
	var sp steps.Splits
	if err := h.run(h.acts.Split, steps.SplitInput{Raw: ing.Raw, Fractions: prep.DefaultFractions}, &sp); err != nil {
		h.t.Fatal(err)
	}
	var cl steps.CleanResult
	if err := h.run(h.acts.Clean, steps.CleanInput{Splits: sp, Spec: prep.DefaultCleanSpec()}, &cl); err != nil {
		h.t.Fatal(err)
	}
	var sc steps.ScaleResult
	if err := h.run(h.acts.Scale, steps.ScaleInput{Splits: cl.Splits, Spec: spec, Horizon: 1}, &sc); err != nil {
		h.t.Fatal(err)
	}
	var win steps.Splits
	if err := h.run(h.acts.Window, steps.WindowInput{Transform: sc.Transform, Splits: cl.Splits, Lookback: lookback}, &win); err != nil {
		h.t.Fatal(err)
	}
	return ing, sp, cl, sc, win
}

var priceSpec = prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"open"}}

func TestTransformStepsChain(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// 100 rows: train 70 (row 10 null), val 10 (row 70 null: filled from train's last row), test 20.
	_, sp, cl, sc, win := h.prepared(yahooCSV(100, 10, 70), 5, priceSpec)
	if sp.Train.Rows != 70 || sp.Val.Rows != 10 || sp.Test.Rows != 20 {
		t.Fatalf("split rows %d/%d/%d, want 70/10/20", sp.Train.Rows, sp.Val.Rows, sp.Test.Rows)
	}
	if cl.Reports[0].Filled != 6 || cl.Reports[1].Filled != 6 || cl.Reports[2].Filled != 0 {
		t.Fatalf("clean reports %+v, want 6 values filled in train and in val", cl.Reports)
	}
	val, err := h.acts.readBars(ctx, cl.Splits.Val)
	if err != nil {
		t.Fatal(err)
	}
	train, err := h.acts.readBars(ctx, cl.Splits.Train)
	if err != nil {
		t.Fatal(err)
	}
	if val.Open[0] != train.Open[69] {
		t.Fatalf("val's missing first Open = %v, want train's last %v", val.Open[0], train.Open[69])
	}
	var tf prep.Transform
	if err := h.acts.readJSON(ctx, sc.Transform, &tf); err != nil {
		t.Fatal(err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range train.Open {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if f := tf.Features[0]; f.Min != lo || f.Max != hi || f.Shift != lo || f.Scale != hi-lo {
		t.Fatalf("open scaler %+v, want train's range [%v, %v]", f, lo, hi)
	}
	if sc.Coverage[0]["open"] != 1 || sc.Coverage[2]["open"] != 0 {
		t.Fatalf("coverage %v: train should be inside its range, the rising test outside", sc.Coverage)
	}
	if win.Train.Rows != 65 || win.Val.Rows != 5 || win.Test.Rows != 15 {
		t.Fatalf("windows %d/%d/%d, want 65/5/15 (no window crosses a split)", win.Train.Rows, win.Val.Rows, win.Test.Rows)
	}
	tw, err := h.acts.readWindows(ctx, win.Test)
	if err != nil {
		t.Fatal(err)
	}
	test, err := h.acts.readBars(ctx, cl.Splits.Test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tw.Target {
		if math.Abs(tw.Target[i]-test.Open[i+5]) > 1e-9 || math.Abs(tw.Last[i]-test.Open[i+4]) > 1e-9 {
			t.Fatalf("window %d: target %v last %v, want Open[%d]=%v and Open[%d]=%v", i, tw.Target[i], tw.Last[i], i+5, test.Open[i+5], i+4, test.Open[i+4])
		}
		if want := (test.Open[i+5] - tf.Label.Shift) / tf.Label.Scale; math.Abs(float64(tw.Y[i])-want) > 1e-5 {
			t.Fatalf("window %d: label %v is not the scaled target %v", i, tw.Y[i], want)
		}
	}
}

func TestLogReturnWindowsLabelTheNextReturn(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, _, cl, sc, win := h.prepared(yahooCSV(100), 5, prep.DefaultTransformSpec())
	if win.Train.Rows != 65 || win.Test.Rows != 15 {
		t.Fatalf("windows train %d test %d, want 65 and 15 (5-day windows, horizon 1)", win.Train.Rows, win.Test.Rows)
	}
	var tf prep.Transform
	if err := h.acts.readJSON(ctx, sc.Transform, &tf); err != nil {
		t.Fatal(err)
	}
	tw, err := h.acts.readWindows(ctx, win.Test)
	if err != nil {
		t.Fatal(err)
	}
	test, err := h.acts.readBars(ctx, cl.Splits.Test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tw.Y {
		ret := math.Log(test.Open[i+5] / test.Open[i+4])
		if want := (ret - tf.Label.Shift) / tf.Label.Scale; math.Abs(float64(tw.Y[i])-want) > 1e-5 {
			t.Fatalf("window %d: label %v, want standardised return %v", i, tw.Y[i], want)
		}
		if got := tf.Price(tw.Last[i], float64(tw.Y[i])); math.Abs(got-tw.Target[i]) > 1e-4*tw.Target[i] {
			t.Fatalf("window %d: the label maps back to %v, want the target %v", i, got, tw.Target[i])
		}
	}
}

func TestTransformStepsAreReusedForTheSameInputs(t *testing.T) {
	h := newHarness(t)
	csv := yahooCSV(60)
	_, _, _, _, first := h.prepared(csv, 5, priceSpec)
	_, _, _, _, second := h.prepared(csv, 5, priceSpec)
	if first != second {
		t.Fatalf("same inputs gave different window refs: %v vs %v", first, second)
	}
}

func TestTrainEvaluateRegister(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ing, _, _, sc, win := h.prepared(yahooCSV(200, 3), 10, prep.DefaultTransformSpec())
	params := pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 2, BatchSize: 16, LearningRate: 0.01, Seed: 1}
	var tr steps.TrainResult
	if err := h.run(h.acts.Train, steps.TrainInput{RunID: "run-1", Windows: win, Params: params}, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Curve) != 2 || tr.Config.Units != 8 || tr.Config.Lookback != 9 { // 10 days of Opens = 9 returns
		t.Fatalf("train result %+v", tr)
	}
	var ev steps.EvaluateResult
	if err := h.run(h.acts.Evaluate, steps.EvaluateInput{RunID: "run-1", Weights: tr.Weights, Config: tr.Config, Transform: sc.Transform, Test: win.Test}, &ev); err != nil {
		t.Fatal(err)
	}
	tw, err := h.acts.readWindows(ctx, win.Test)
	if err != nil {
		t.Fatal(err)
	}
	var se float64
	for i := range tw.Target {
		se += (tw.Target[i] - tw.Last[i]) * (tw.Target[i] - tw.Last[i])
	}
	if want := math.Sqrt(se / float64(len(tw.Target))); math.Abs(ev.Metrics.NaiveRMSE-want) > 1e-9 || ev.Metrics.N != len(tw.Target) {
		t.Fatalf("naive RMSE %v over %d, want %v over %d", ev.Metrics.NaiveRMSE, ev.Metrics.N, want, len(tw.Target))
	}
	if math.IsNaN(ev.Metrics.TestRMSE) || ev.Metrics.TestRMSE <= 0 {
		t.Fatalf("model RMSE %v", ev.Metrics.TestRMSE)
	}
	in := steps.RegisterInput{Ticker: "T", RunID: "run-1", Weights: tr.Weights, Transform: sc.Transform, Config: tr.Config,
		Horizon: 1, Params: params, Metrics: ev.Metrics, Raw: ing.Raw}
	var reg, again steps.RegisterResult
	if err := h.run(h.acts.Register, in, &reg); err != nil {
		t.Fatal(err)
	}
	if err := h.run(h.acts.Register, in, &again); err != nil {
		t.Fatal(err)
	}
	if reg.Version != 1 || again.Version != 1 {
		t.Fatalf("versions %d then %d: a retried registration must not add a version", reg.Version, again.Version)
	}
	saved, err := registry.Registry{Store: h.acts.Store}.ReadFile(ctx, "T", 1, registry.FileWeights)
	if err != nil {
		t.Fatal(err)
	}
	if blob.ContentHash(saved) != tr.Weights.SHA256 {
		t.Fatal("registered weights differ from the trained ones")
	}
}

func TestReadVerifiedRejectsTamperedObjects(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ref, err := h.acts.putImmutable(ctx, "data/x.bin", []byte("hello"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.acts.Store.Put(ctx, "data/x.bin", bytes.NewReader([]byte("HELLO"))); err != nil {
		t.Fatal(err)
	}
	_, err = h.acts.readVerified(ctx, ref)
	assertAppError(t, err, steps.ErrCorrupt)
}

// A newest-first copy of a file (how Nasdaq, Alpha Vantage and brokers
// write them) is the same data version as the file.
func TestIngestNewestFirstIsTheSameVersion(t *testing.T) {
	h := newHarness(t)
	f := readSharedCSV(t, "single", "NFLX.csv")
	orig := f.header + "\n" + strings.Join(f.rows, "\n") + "\n"
	rows := slices.Clone(f.rows)
	slices.Reverse(rows)
	reversed := f.header + "\n" + strings.Join(rows, "\n") + "\n"
	var a, b steps.IngestResult
	if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "NFLX", CSVKey: h.upload(orig)}, &a); err != nil {
		t.Fatal(err)
	}
	if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "NFLX", CSVKey: h.upload(reversed)}, &b); err != nil {
		t.Fatal(err)
	}
	if a.Raw != b.Raw || a.Raw.Rows != 5189 || a.Read.NewestFirst || !b.Read.NewestFirst {
		t.Fatalf("original %+v (read %+v), newest-first %+v (read %+v): want one version", a.Raw, a.Read, b.Raw, b.Read)
	}
}
