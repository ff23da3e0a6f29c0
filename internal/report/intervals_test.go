package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/metrics"
)

func sampleIntervals() *metrics.Intervals {
	return &metrics.Intervals{Scale: metrics.ScaleLastOpen,
		Model: []conformal.Band{{Level: 0.8, HalfWidth: 0.015, N: 412}, {Level: 0.95, HalfWidth: 0.032, N: 412}},
		Naive: []conformal.Band{{Level: 0.8, HalfWidth: 0.016, N: 412}, {Level: 0.95, HalfWidth: 0.033, N: 412}},
		Test: []metrics.IntervalTest{
			{Level: 0.8, ModelCoverage: 0.791, NaiveCoverage: 0.813, ModelWidth: 3, NaiveWidth: 4, N: 989},
			{Level: 0.95, ModelCoverage: 0.962, NaiveCoverage: 0.944, ModelWidth: 6.5, NaiveWidth: 8, N: 989}},
		AbsoluteTest: []metrics.IntervalTest{
			{Level: 0.8, ModelCoverage: 0.619, NaiveCoverage: 0.615, ModelWidth: 2.5, NaiveWidth: 2.25, N: 989},
			{Level: 0.95, ModelCoverage: 0.917, NaiveCoverage: 0.918, ModelWidth: 5.5, NaiveWidth: 5.25, N: 989}},
		Notes: []string{"level 0.999 left out: conformal: level 0.999 needs at least 999 calibration residuals, got 412"},
	}
}

// The report shows, per level, the model's and naive's coverage on the
// test split, their mean widths and the calibration size, for the served
// intervals and the plain ones, in the text summary and the page; a run
// from before intervals shows no such section.
func TestReportShowsPredictionIntervals(t *testing.T) {
	r := sampleRecord(1.2, 2.5, 0.01)
	r.Result.Metrics.Intervals = sampleIntervals()
	var txt bytes.Buffer
	if err := Summary(&txt, r); err != nil {
		t.Fatal(err)
	}
	s := txt.String()
	rows := regexp.MustCompile(`(?m)^\s+(served|absolute)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$`).FindAllStringSubmatch(s, -1)
	want := [][]string{
		{"served", "80.0%", "79.1%", "81.3%", "3.0000", "4.0000"}, {"served", "95.0%", "96.2%", "94.4%", "6.5000", "8.0000"},
		{"absolute", "80.0%", "61.9%", "61.5%", "2.5000", "2.2500"}, {"absolute", "95.0%", "91.7%", "91.8%", "5.5000", "5.2500"}}
	if len(rows) != len(want) {
		t.Fatalf("summary has %d interval rows, want %d:\n%s", len(rows), len(want), s)
	}
	for i, w := range want {
		if got := rows[i][1:]; strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("summary row %d: %v, want %v", i, got, w)
		}
	}
	for _, want := range []string{"on 412 validation residuals", "a share of the window's last Open", "note: level 0.999 left out"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}

	h := render(t, r, nil, Nav{})
	for _, want := range []string{
		"<h3>Prediction intervals</h3>", "calibrated on 412 validation residuals",
		"<tr><td>served</td><td>80.0%</td><td>79.1%</td><td>81.3%</td><td>3.0000</td><td>4.0000</td><td>989</td></tr>",
		"<tr><td>served</td><td>95.0%</td><td>96.2%</td><td>94.4%</td><td>6.5000</td><td>8.0000</td><td>989</td></tr>",
		"<tr><td>price units, for comparison</td><td>80.0%</td><td>61.9%</td><td>61.5%</td><td>2.5000</td><td>2.2500</td><td>989</td></tr>",
		"Note: level 0.999 left out",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("page lacks %s", want)
		}
	}

	old := sampleRecord(1.2, 2.5, 0.01)
	txt.Reset()
	if err := Summary(&txt, old); err != nil {
		t.Fatal(err)
	}
	if h := render(t, old, nil, Nav{}); strings.Contains(h, "Prediction intervals") || strings.Contains(txt.String(), "prediction intervals") {
		t.Error("a run without intervals shows an intervals section")
	}
}
