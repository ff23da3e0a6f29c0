package activities

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/steps"
)

func preds(actual, model, naive []float64) (*frame.Predictions, []time.Time) {
	p := &frame.Predictions{Actual: actual, Predicted: model, Naive: naive}
	for i := range actual {
		p.Date = append(p.Date, time.Date(2024, 1, 2+i, 0, 0, 0, 0, time.UTC))
	}
	return p, p.Date
}

func TestPromotionGate(t *testing.T) {
	actual := []float64{10, 11, 12, 13}
	naive := []float64{9, 10, 11, 12}       // RMSE 1
	good := []float64{10.2, 11.2, 11.8, 13} // RMSE ≈ 0.17
	bad := []float64{8, 13, 10, 15}         // RMSE 2
	champAt := func(dates []time.Time, v []float64) map[time.Time]float64 {
		m := map[time.Time]float64{}
		for i, d := range dates {
			m[d] = v[i]
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		model    []float64
		champ    []float64 // nil: no champion
		margin   float64
		promoted bool
		says     string
	}{
		{"first model, better than naive", good, nil, 0, true, "no champion yet"},
		{"first model, worse than naive", bad, nil, 0, false, "worse than the naive forecast"},
		{"worse than naive within a 150% margin", bad, nil, 1.5, true, "not worse than naive"},
		{"beats the champion and naive", good, []float64{10.5, 11.5, 12.5, 12.5}, 0, true, "better than both"},
		{"does not beat the champion", []float64{10.5, 11.5, 12.5, 12.5}, good, 0, false, "does not beat the champion"},
		{"beats the champion but not naive", []float64{8.5, 12.5, 11, 14}, bad, 0, false, "worse than the naive forecast"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, dates := preds(actual, tc.model, naive)
			var champ map[time.Time]float64
			if tc.champ != nil {
				champ = champAt(dates, tc.champ)
			}
			got := judge(p, champ, steps.PromoteInput{Margin: tc.margin})
			if got.Promoted != tc.promoted || !strings.Contains(got.Reason, tc.says) {
				t.Fatalf("promoted %v (%s), want %v and a reason saying %q", got.Promoted, got.Reason, tc.promoted, tc.says)
			}
			if got.Days != 4 {
				t.Fatalf("compared %d days, want 4", got.Days)
			}
		})
	}
}

func TestPromotionComparesOnlyCommonDays(t *testing.T) {
	p, dates := preds([]float64{10, 11, 12, 13}, []float64{10, 11, 12, 20}, []float64{9, 10, 11, 12})
	// The champion only forecast the first three days (a longer lookback):
	// the new model's big miss on day 4 must not count.
	champ := map[time.Time]float64{dates[0]: 10.5, dates[1]: 11.5, dates[2]: 12.5}
	got := judge(p, champ, steps.PromoteInput{})
	if got.Days != 3 || !got.Promoted || got.RMSE != 0 {
		t.Fatalf("judge = %+v, want 3 common days, RMSE 0, promoted", got)
	}
}

// hookStore runs a callback once, just before the first write of one key
// after it is armed: the place where another run can slip in between a
// promotion's comparison and its alias move.
type hookStore struct {
	blob.Store
	key string

	mu     sync.Mutex
	before func()
}

func (s *hookStore) arm(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = f
}

func (s *hookStore) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	if key == s.key {
		s.mu.Lock()
		f := s.before
		s.before = nil
		s.mu.Unlock()
		if f != nil {
			f()
		}
	}
	return s.Store.PutIfGen(ctx, key, r, gen)
}

// trainedModel is one trained and evaluated model, not yet registered.
type trainedModel struct {
	train steps.TrainResult
	eval  steps.EvaluateResult
}

// promotionModels trains three small models on one data set (in a store
// of their own) and returns them worst first by test RMSE, with what a
// registration needs.
func promotionModels(t *testing.T) (base blob.Store, models []trainedModel, reg steps.RegisterInput, test blob.Ref) {
	t.Helper()
	h := newHarness(t)
	ing, _, cl, sc, win := h.prepared(yahooCSV(200, 3), 10, prep.DefaultTransformSpec())
	for seed, epochs := range []int{1, 3, 6} {
		params := pipeline.ModelParams{Layers: 1, Units: 8, Epochs: epochs, BatchSize: 16, LearningRate: 0.01, Seed: int64(seed + 1)}
		var m trainedModel
		if err := h.run(h.acts.Train, steps.TrainInput{RunID: fmt.Sprintf("train-%d", seed), Windows: win, Params: params}, &m.train); err != nil {
			t.Fatal(err)
		}
		if err := h.run(h.acts.Evaluate, steps.EvaluateInput{RunID: fmt.Sprintf("eval-%d", seed), Weights: m.train.Weights, Config: m.train.Config, Transform: sc.Transform, Test: win.Test}, &m.eval); err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	slices.SortFunc(models, func(a, b trainedModel) int { return cmp.Compare(b.eval.Metrics.TestRMSE, a.eval.Metrics.TestRMSE) })
	for i := 1; i < len(models); i++ {
		if r0, r1 := models[i-1].eval.Metrics.TestRMSE, models[i].eval.Metrics.TestRMSE; r0-r1 < 1e-6*r0 {
			t.Fatalf("models score too alike to order: RMSE %v and %v", r0, r1)
		}
	}
	reg = steps.RegisterInput{Ticker: "T", Transform: sc.Transform, Lookback: 10, Horizon: 1, Raw: ing.Raw}
	return h.acts.Store, models, reg, cl.Splits.Test
}

// promotionRegistry copies base into a fresh store behind a hookStore and
// registers the models there as v1, v2, v3 (runs run-1…run-3), worst first;
// it returns the activities and each version's PromoteInput (index = version).
func promotionRegistry(t *testing.T, base blob.Store, models []trainedModel, reg steps.RegisterInput, test blob.Ref) (*Activities, *hookStore, []steps.PromoteInput) {
	t.Helper()
	ctx := context.Background()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := base.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		b, err := blob.GetBytes(ctx, base, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := blob.PutBytes(ctx, local, k, b); err != nil {
			t.Fatal(err)
		}
	}
	hs := &hookStore{Store: local, key: "registry/T.json"}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	acts := New(hs, gotch.CPU)
	env.RegisterActivity(acts)
	h := &harness{t: t, acts: acts, env: env}
	ins := []steps.PromoteInput{{}}
	for i, m := range models {
		in := reg
		in.RunID, in.Weights, in.Config, in.Metrics = fmt.Sprintf("run-%d", i+1), m.train.Weights, m.train.Config, m.eval.Metrics
		var res steps.RegisterResult
		if err := h.run(acts.Register, in, &res); err != nil {
			t.Fatal(err)
		}
		if res.Version != i+1 {
			t.Fatalf("registered v%d, want v%d", res.Version, i+1)
		}
		// A margin this wide leaves the decisions to the champion comparisons.
		ins = append(ins, steps.PromoteInput{Ticker: "T", RunID: in.RunID, Version: res.Version, Predictions: m.eval.Predictions, Test: test, Margin: 1000})
	}
	return acts, hs, ins
}

func TestConcurrentPromotionsAreComparedWithEachOther(t *testing.T) {
	base, models, reg, test := promotionModels(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name         string
		outer, inner int // the inner run promotes between the outer's comparison and its move
		wantOuter    pipeline.Promotion
		wantInner    pipeline.Promotion
	}{
		// v3 (better than v2) slips in: v2 must not displace it unseen.
		{"the better run slips in", 2, 3,
			pipeline.Promotion{Alias: registry.Challenger, PreviousVersion: 3},
			pipeline.Promotion{Alias: registry.Champion, Promoted: true, PreviousVersion: 1}},
		// v2 slips in: v3 must be compared with v2, not with v1.
		{"the worse run slips in", 3, 2,
			pipeline.Promotion{Alias: registry.Champion, Promoted: true, PreviousVersion: 2},
			pipeline.Promotion{Alias: registry.Champion, Promoted: true, PreviousVersion: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acts, hs, ins := promotionRegistry(t, base, models, reg, test)
			if p, err := acts.Promote(ctx, ins[1]); err != nil || !p.Promoted {
				t.Fatalf("v1 with no champion: %+v, %v", p, err)
			}
			var inner pipeline.Promotion
			var innerErr error
			hs.arm(func() { inner, innerErr = acts.Promote(ctx, ins[tc.inner]) })
			outer, err := acts.Promote(ctx, ins[tc.outer])
			if err != nil || innerErr != nil {
				t.Fatalf("promotions failed: outer %v, inner %v", err, innerErr)
			}
			for _, c := range []struct {
				name      string
				got, want pipeline.Promotion
			}{{"outer", outer, tc.wantOuter}, {"inner", inner, tc.wantInner}} {
				if c.got.Alias != c.want.Alias || c.got.Promoted != c.want.Promoted || c.got.PreviousVersion != c.want.PreviousVersion {
					t.Errorf("%s promotion %+v: want alias %s, promoted %v, compared with v%d",
						c.name, c.got, c.want.Alias, c.want.Promoted, c.want.PreviousVersion)
				}
				if v := c.got.PreviousVersion; v != 0 {
					if want := models[v-1].eval.Metrics.TestRMSE; math.Abs(c.got.ChampionRMSE-want) > 1e-6*want {
						t.Errorf("%s promotion scored the champion %v, but v%d scores %v", c.name, c.got.ChampionRMSE, v, want)
					}
				}
			}
			m, err := registry.Registry{Store: acts.Store}.Manifest(ctx, "T")
			if err != nil {
				t.Fatal(err)
			}
			if m.Aliases[registry.Champion] != 3 {
				t.Fatalf("champion v%d, want the best, v3 (aliases %v, history %+v)", m.Aliases[registry.Champion], m.Aliases, m.History)
			}
			// The move that made the champion names the version it beat, as its run reported.
			for i := len(m.History) - 1; i >= 0; i-- {
				h := m.History[i]
				if h.Alias != registry.Champion || h.Version != 3 {
					continue
				}
				final := outer
				if tc.inner == 3 {
					final = inner
				}
				if h.Previous != final.PreviousVersion {
					t.Fatalf("history says v3 replaced v%d, its run says it was compared with v%d", h.Previous, final.PreviousVersion)
				}
				break
			}
		})
	}
}

func TestRetriedPromoteReturnsTheRecordedDecision(t *testing.T) {
	base, models, reg, test := promotionModels(t)
	ctx := context.Background()
	acts, _, ins := promotionRegistry(t, base, models, reg, test)
	if _, err := acts.Promote(ctx, ins[1]); err != nil {
		t.Fatal(err)
	}
	forced := ins[1]
	forced.RunID, forced.Force = "run-force", true
	for i, in := range []steps.PromoteInput{ins[3], ins[2], forced} {
		// v3 becomes champion over v1, v2 challenger against v3, and v1 is
		// forced back over v3.
		v := in.Version
		first, err := acts.Promote(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		// The worker died after the move: the retry finds it done.
		again, err := acts.Promote(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Fatalf("v%d: retried promotion %+v, first %+v", v, again, first)
		}
		if again.PreviousVersion == v || again.PreviousVersion == 0 {
			t.Fatalf("v%d: retry compared with v%d", v, again.PreviousVersion)
		}
		if want := []string{registry.Champion, registry.Challenger, registry.Champion}[i]; first.Alias != want || first.Forced != in.Force {
			t.Fatalf("v%d: %+v, want %s (forced %v)", v, first, want, in.Force)
		}
	}
	m, err := registry.Registry{Store: acts.Store}.Manifest(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	last := m.History[len(m.History)-1]
	if m.Aliases[registry.Champion] != 1 || m.Aliases[registry.Challenger] != 2 || len(m.History) != 4 ||
		!last.Forced || last.Previous != 3 || last.Compared != 3 {
		t.Fatalf("after retries: aliases %v, history %+v", m.Aliases, m.History)
	}
}
