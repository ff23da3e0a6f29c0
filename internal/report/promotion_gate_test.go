package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
)

// A run judged by the backtest gate shows the gate, its folds and the
// pooled test in the summary and the HTML report; one judged on the split
// shows no gate line.
func TestPromotionGateIsShown(t *testing.T) {
	r := sampleRecord(1, 2, 0.01)
	r.Promotion.Gate, r.Promotion.Alpha, r.Promotion.Folds = pipeline.GateBacktest, 0.05, 5
	r.Promotion.DMStat, r.Promotion.DMPValue = -2.1, 0.000012
	var txt, page bytes.Buffer
	if err := Summary(&txt, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "gate: backtest over 5 folds, pooled DM -2.10, p = 1.2e-05 (α 0.05)") {
		t.Errorf("summary lacks the backtest gate:\n%s", txt.String())
	}
	if err := HTML(&page, r, nil, Nav{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "Promotion gate: backtest") || !strings.Contains(page.String(), "(5 folds)") ||
		!strings.Contains(page.String(), "p = 1.2e-05, promoted only if p &lt; α 0.05") {
		t.Errorf("report lacks the backtest gate:\n%s", page.String())
	}

	r.Promotion.DMPValue = metrics.Maybe(math.NaN())
	txt.Reset()
	if err := Summary(&txt, r); err != nil || !strings.Contains(txt.String(), "p = n/a") {
		t.Errorf("undefined p: %v\n%s", err, txt.String())
	}

	split := sampleRecord(1, 2, 0.01)
	split.Promotion.Gate = pipeline.GateSplit
	txt.Reset()
	page.Reset()
	if err := Summary(&txt, split); err != nil || strings.Contains(txt.String(), "gate:") {
		t.Errorf("split gate summary: %v\n%s", err, txt.String())
	}
	if err := HTML(&page, split, nil, Nav{}); err != nil || strings.Contains(page.String(), "Promotion gate") {
		t.Errorf("split gate report: %v", err)
	}
}
