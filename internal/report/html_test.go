package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/runs"
)

// render renders r with plots and nav, failing the test on an error.
func render(t *testing.T, r runs.Record, plots []Plot, nav Nav) string {
	t.Helper()
	var page bytes.Buffer
	if err := HTML(&page, r, plots, nav); err != nil {
		t.Fatal(err)
	}
	return page.String()
}

func TestHTMLHasTheTrackingNavigation(t *testing.T) {
	r := sampleRecord(1, 2, 0.01)
	r.Ticker = "NFLX"
	h := render(t, r, nil, Nav{WebUI: "http://ui.example:8233/namespaces/default/workflows/train-NFLX-1?a=1&b=2"})
	for _, want := range []string{
		`<header class="top">`,
		`<a class="brand" href="/">FinSight</a>`,
		`<a href="/">Overview</a>`,
		`<a href="/ui/runs">Runs</a>`,
		`<a href="/ui/runs?ticker=NFLX">NFLX runs</a>`,
		`<a href="/ui/models/NFLX">NFLX models</a>`,
		`<a class="ext" href="http://ui.example:8233/namespaces/default/workflows/train-NFLX-1?a=1&amp;b=2" rel="noopener">Temporal Web UI ↗</a>`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if h := render(t, r, nil, Nav{}); strings.Contains(h, "Temporal Web UI") || strings.Contains(h, `class="ext"`) {
		t.Error("a Web UI link without a Web UI URL")
	}
	if h := render(t, runs.Record{ID: "x"}, nil, Nav{}); strings.Contains(h, " runs</a>") || !strings.Contains(h, `href="/ui/runs">Runs`) {
		t.Error("a record without a ticker: want the ticker links left out, the others kept")
	}
}

func TestHTMLEscapesData(t *testing.T) {
	r := sampleRecord(1, 2, 0.01)
	r.Ticker = `X"><u>`
	r.Error = "<script>alert(1)</script>"
	r.Data.CSV = "uploads/<img src=x onerror=alert(2)>.csv"
	h := render(t, r, []Plot{{Title: "<i>t</i>", URL: `plots/a".png`}}, Nav{WebUI: "javascript:alert(3)"})
	for _, bad := range []string{"<script>", "<img src=x", "<u>", "<i>t</i>", "javascript:alert", `a".png`} {
		if strings.Contains(h, bad) {
			t.Errorf("page carries %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;.csv", "X&#34;&gt;&lt;u&gt; runs", "&lt;i&gt;t&lt;/i&gt;"} {
		if !strings.Contains(h, want) {
			t.Errorf("page lacks the escaped text %q", want)
		}
	}
	if !strings.Contains(h, `href="/ui/models/X%22%3e%3cu%3e"`) {
		t.Error("the ticker is not escaped in the models link")
	}
}

func TestHTMLShowsThePlotsInOrderWithTitles(t *testing.T) {
	names := []string{"data_raw_prices.png", "loss.png", "residuals.png", "zoom.png", "cumulative.png", "residuals_time.png", "predictions.png"}
	h := render(t, sampleRecord(1, 2, 0.01), PlotsFor(names), Nav{})
	img := regexp.MustCompile(`<figcaption>([^<]+)</figcaption><img src="plots/([^"]+)"`)
	var got []string
	for _, m := range img.FindAllStringSubmatch(h, -1) {
		got = append(got, m[2])
		if strings.TrimSpace(m[1]) == "" {
			t.Errorf("%s has no title", m[2])
		}
	}
	want := []string{"predictions.png", "zoom.png", "cumulative.png", "residuals_time.png", "residuals.png", "loss.png", "data_raw_prices.png"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("plots in the page: %v, want %v", got, want)
	}
	for _, want := range []string{"last 60 test days", "rises where the model beats naive", "Data: raw_prices"} {
		if !strings.Contains(h, want) {
			t.Errorf("page lacks the title text %q", want)
		}
	}
}

func TestPlotsForOrdersAndTitles(t *testing.T) {
	got := PlotsFor([]string{"zz.png", "data_b.png", "notes.txt", "sub/x.png", "predictions.png", "data_a.png", "cumulative.png", ""})
	want := []Plot{
		{Title: "Actual vs predicted (and naive) next Open over the test period", URL: "plots/predictions.png"},
		{Title: "Cumulative squared-error difference, naive − model: rises where the model beats naive", URL: "plots/cumulative.png"},
		{Title: "Data: a", URL: "plots/data_a.png"},
		{Title: "Data: b", URL: "plots/data_b.png"},
		{Title: "zz", URL: "plots/zz.png"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("plot %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if p := PlotsFor(nil); len(p) != 0 {
		t.Errorf("no names: %v", p)
	}
}

// The CSP hash is of the exact text between <style> and </style> in a
// rendered page, and that block is the page's only inline style.
func TestStyleHashMatchesTheRenderedStyle(t *testing.T) {
	h := render(t, sampleRecord(1, 2, 0.01), []Plot{{Title: "p", URL: "plots/p.png"}}, Nav{WebUI: "http://ui/x"})
	blocks := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(h, -1)
	if len(blocks) != 1 {
		t.Fatalf("%d style blocks, want 1", len(blocks))
	}
	sum := sha256.Sum256([]byte(blocks[0][1]))
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; StyleHash() != want {
		t.Errorf("StyleHash %s, the page's style hashes to %s", StyleHash(), want)
	}
	if strings.Contains(h, " style=") || strings.Contains(h, "<script") {
		t.Error("the page has inline style attributes or scripts the CSP would block")
	}
}
