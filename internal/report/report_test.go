package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/validate"
)

func sampleRecord(modelRMSE, naiveRMSE, p float64) runs.Record {
	cmp := metrics.Comparison{
		Model: metrics.Scores{RMSE: modelRMSE, MAE: 1, MAPE: 2, N: 10},
		Naive: metrics.Scores{RMSE: naiveRMSE, MAE: 1.1, MAPE: metrics.Maybe(math.NaN()), N: 10},
		MASE:  0.9, DirectionalAccuracy: 0.55, DMStat: -2.5, DMPValue: metrics.Maybe(p),
	}
	return runs.Record{ID: "train-X-1", Ticker: "X", Status: runs.StatusCompleted, Stage: "completed",
		Result: &pipeline.TrainingResult{ModelVersion: 3, Efficacy: metrics.Efficacy{Overall: cmp,
			ByYear: []metrics.Slice{{Name: "2021", Comparison: cmp}}},
			Curve: []pipeline.EpochLoss{{Epoch: 1, TrainLoss: 0.5, ValLoss: 0.4}}},
		Promotion: &runs.Promotion{Version: 3, Alias: "challenger", Reason: "RMSE 1.2 is not below the champion's 1.0"},
		Anomalies: []runs.Anomaly{{Split: "test", Anomaly: validate.Anomaly{Severity: "warning", Rule: "gap", Date: "2021-01-04", Detail: "<5 days>"}}},
	}
}

func TestVerdictTellsTheTruth(t *testing.T) {
	for _, tc := range []struct {
		model, naive, p float64
		want            string
	}{
		{1, 2, 0.01, "beats the naive forecast, significantly"},
		{1, 2, 0.3, "not significantly"},
		{2, 1, 0.01, "significantly WORSE"},
		{2, 1, 0.5, "does not beat"},
		{2, 1, math.NaN(), "does not beat"},
	} {
		got := Verdict(sampleRecord(tc.model, tc.naive, tc.p).Result.Efficacy.Overall)
		if !strings.Contains(got, tc.want) {
			t.Errorf("model %v naive %v p %v: verdict %q, want it to say %q", tc.model, tc.naive, tc.p, got, tc.want)
		}
	}
}

func TestSummaryAndHTMLShowTheNumbers(t *testing.T) {
	r := sampleRecord(1.2345, 2.5, 0.01)
	var txt bytes.Buffer
	if err := Summary(&txt, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"model v3", "1.2345", "2.5000", "MASE 0.900", "55.0%", "n/a", "challenger", "1 warning"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, txt.String())
		}
	}
	var page bytes.Buffer
	if err := HTML(&page, r, []Plot{{Title: "Actual vs predicted", URL: "plots/pred.png"}}, Nav{}); err != nil {
		t.Fatal(err)
	}
	h := page.String()
	for _, want := range []string{"<h1>X — run train-X-1</h1>", "1.2345", `src="plots/pred.png"`, "2021", "&lt;5 days&gt;", "beats the naive forecast"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
