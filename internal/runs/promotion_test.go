package runs

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
)

// The record keeps the backtest gate's evidence, an undefined p included
// (JSON cannot hold NaN: it is written as null and read back as NaN), and a
// split-gate promotion writes none of those fields.
func TestPromotionRecordKeepsTheGate(t *testing.T) {
	p := NewPromotion(4, pipeline.Promotion{Alias: "challenger", Reason: "r", Gate: pipeline.GateBacktest, Alpha: 0.05, Folds: 5,
		DMStat: -0.4, DMPValue: metrics.Maybe(math.NaN())})
	b, err := json.Marshal(Record{ID: "x", Promotion: p})
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got := back.Promotion
	if got.Version != 4 || got.Gate != pipeline.GateBacktest || got.Folds != 5 || got.DMStat != -0.4 || !math.IsNaN(float64(got.DMPValue)) {
		t.Fatalf("read back %+v from %s", got, b)
	}
	split, err := json.Marshal(NewPromotion(2, pipeline.Promotion{Alias: "champion", Promoted: true, Gate: pipeline.GateSplit}))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"dm_stat", "dm_p_value", "folds", "alpha"} {
		if strings.Contains(string(split), f) {
			t.Fatalf("split-gate promotion %s writes %s", split, f)
		}
	}
}
