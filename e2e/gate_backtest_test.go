package e2e

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/runs"
)

// A training of the last 800 days of NFLX with --gate backtest, 3 folds of
// a tiny LSTM, on a real dev server and worker: the run backtests its own
// CSV in the child <id>-backtest, whose summary is in the store, and the
// promotion decision is the backtest gate's: its pooled DM statistic and p
// are the summary's for the model, the reason quotes them, and the alias
// follows the rule (champion only for DM < 0 and p < α).
func TestTrainingWithTheBacktestGate(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	up := s.uploadLastRows(ctx, t, "NFLX.csv", 800)
	const id = "e2e-gate-backtest"
	res := s.trainAs(t, id, pipeline.TrainingInput{Ticker: "NFLX", CSVKey: up.Key, Lookback: 20,
		Model: pipeline.ModelParams{Epochs: 1, Units: 8, Layers: 1}, Gate: pipeline.GateBacktest, BacktestFolds: 3})

	child := id + "-backtest"
	d, err := s.c.DescribeWorkflowExecution(ctx, child, "")
	if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("backtest child %s: %v", child, err)
	}
	raw, err := blob.GetBytes(ctx, s.store, pipeline.BacktestSummaryKey(child))
	if err != nil {
		t.Fatalf("backtest summary: %v", err)
	}
	var sum struct {
		Summary []backtest.ModelSummary `json:"summary"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	var lstm *backtest.ModelSummary
	for i := range sum.Summary {
		if sum.Summary[i].Model == pipeline.ModelLSTM {
			lstm = &sum.Summary[i]
		}
	}
	if lstm == nil || lstm.Folds != 3 || lstm.PooledN == 0 {
		t.Fatalf("backtest summary %s has no 3-fold lstm", raw)
	}

	p := res.Promotion
	if p.Gate != pipeline.GateBacktest || p.Folds != 3 || p.Alpha != pipeline.DefaultGateAlpha ||
		!sameStat(float64(p.DMStat), float64(lstm.PooledDMStat)) || !sameStat(float64(p.DMPValue), float64(lstm.PooledDMPValue)) {
		t.Fatalf("promotion %+v, want the backtest gate with the summary's pooled DM %v, p %v", p, lstm.PooledDMStat, lstm.PooledDMPValue)
	}
	if !strings.Contains(p.Reason, "backtest over 3 folds") || !strings.Contains(p.Reason, "pooled DM") ||
		!strings.Contains(p.Reason, "p = ") {
		t.Fatalf("reason %q does not quote the pooled test", p.Reason)
	}
	t.Logf("promotion: %s is %s: %s", id, p.Alias, p.Reason)
	better := lstm.PooledDMStat < 0 && lstm.PooledDMPValue < pipeline.DefaultGateAlpha
	wantAlias := map[bool]string{true: registry.Champion, false: registry.Challenger}[better]
	if p.Promoted != better || p.Alias != wantAlias {
		t.Fatalf("promotion %+v with pooled DM %v, p %v: want promoted %v (%s)", p, lstm.PooledDMStat, lstm.PooledDMPValue, better, wantAlias)
	}

	rec, err := runs.Read(ctx, s.store, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Promotion == nil || rec.Promotion.Gate != pipeline.GateBacktest || rec.Promotion.Folds != 3 ||
		rec.Artifacts["backtest_summary.json"] != s.store.URI(pipeline.BacktestSummaryKey(child)) {
		t.Fatalf("run record promotion %+v, artifacts %v", rec.Promotion, rec.Artifacts)
	}
	i, j := stepIndex(rec, "backtest"), stepIndex(rec, "register")
	if i < 0 || j < i {
		t.Fatalf("run steps %+v: want backtest before register", rec.Steps)
	}
}

// sameStat: equal, or both undefined.
func sameStat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// stepIndex is the place of step name in the run record (-1: absent).
func stepIndex(r runs.Record, name string) int {
	for i, s := range r.Steps {
		if s.Name == name {
			return i
		}
	}
	return -1
}
