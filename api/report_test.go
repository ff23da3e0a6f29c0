package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/runs"
)

// reportStore is a local store with one run, NFLX's, and two of its plots
// (written in the opposite of the page's order) besides a stale stored
// report.html that the API must not serve.
func reportStore(t *testing.T) (blob.Store, runs.Record) {
	t.Helper()
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec := runs.Record{ID: "train-NFLX-report", Ticker: "NFLX", Status: runs.StatusFailed, Stage: "train",
		StartedAt: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), Error: "<script>alert(1)</script>"}
	if err := runs.Write(ctx, store, rec); err != nil {
		t.Fatal(err)
	}
	for key, b := range map[string][]byte{
		runs.PlotsDir(rec.ID) + "data_raw_prices.png": []byte("png"),
		runs.PlotsDir(rec.ID) + "predictions.png":     []byte("png"),
		runs.ReportKey(rec.ID):                        []byte("<!doctype html><p>stale report</p>"),
	} {
		if err := blob.PutBytes(ctx, store, key, b); err != nil {
			t.Fatal(err)
		}
	}
	return store, rec
}

// The report is rendered live: the tracking navigation with this API's Web
// UI link, the run's plots in order, data escaped, and a CSP that allows
// the page's one inline style by its hash.
func TestRunReportIsRenderedLive(t *testing.T) {
	store, rec := reportStore(t)
	h := newServerOn(t, store, api.WithWebUI(func(id string) string { return "http://temporal.example/namespaces/default/workflows/" + id }))
	res := uiGet(t, h, "/runs/"+rec.ID+"/report")
	if res.Code != http.StatusOK {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	body := res.Body.String()
	if strings.Contains(body, "stale report") {
		t.Fatal("the stored report.html was served, not the live page")
	}
	for _, want := range []string{
		`<header class="top">`,
		`<a class="brand" href="/">FinSight</a>`,
		`<a href="/ui/runs">Runs</a>`,
		`<a href="/ui/runs?ticker=NFLX">NFLX runs</a>`,
		`<a href="/ui/models/NFLX">NFLX models</a>`,
		`<a class="ext" href="http://temporal.example/namespaces/default/workflows/train-NFLX-report" rel="noopener">Temporal Web UI ↗</a>`,
		"&lt;script&gt;alert(1)&lt;/script&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("the record's error is not escaped")
	}
	imgs := regexp.MustCompile(`<img src="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(imgs) != 2 || imgs[0][1] != "plots/predictions.png" || imgs[1][1] != "plots/data_raw_prices.png" {
		t.Errorf("images %v, want predictions then the data plot", imgs)
	}
	for header, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := res.Header().Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	checkReportCSP(t, res.Header().Get("Content-Security-Policy"), body)
}

// checkReportCSP checks the policy allows the page's inline style by its
// hash and nothing else inline.
func checkReportCSP(t *testing.T, csp, body string) {
	t.Helper()
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
	if style == nil {
		t.Fatal("the report has no style block")
	}
	sum := sha256.Sum256([]byte(style[1]))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	want := "default-src 'none'; img-src 'self' data:; style-src " + hash + "; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
	if csp != want {
		t.Errorf("Content-Security-Policy\n %s\nwant\n %s", csp, want)
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("the policy allows more than the style: %s", csp)
	}
}

func TestRunReportWithoutWebUIOrPlots(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec := runs.Record{ID: "train-AAPL-x", Ticker: "AAPL", Status: runs.StatusRunning, Stage: "ingest"}
	if err := runs.Write(ctx, store, rec); err != nil {
		t.Fatal(err)
	}
	res := uiGet(t, newServerOn(t, store), "/runs/"+rec.ID+"/report")
	if res.Code != http.StatusOK {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	body := res.Body.String()
	if strings.Contains(body, "Temporal Web UI") || strings.Contains(body, "<img") {
		t.Error("a Web UI link or an image without a Web UI or plots")
	}
	if !strings.Contains(body, `<a href="/ui/models/AAPL">AAPL models</a>`) {
		t.Error("the report lacks the navigation")
	}
}

func TestRunReportUnknownAndInvalidRun(t *testing.T) {
	store, _ := reportStore(t)
	h := newServerOn(t, store)
	for target, status := range map[string]int{
		"/runs/train-NFLX-none/report": http.StatusNotFound,
		"/runs/a%5Cb/report":           http.StatusBadRequest,
	} {
		res := uiGet(t, h, target)
		if res.Code != status {
			t.Errorf("%s: status %d, want %d: %s", target, res.Code, status, res.Body)
			continue
		}
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(res.Body.Bytes(), &body); err != nil || body.Error == "" {
			t.Errorf("%s: not a JSON error: %q (%v)", target, res.Body, err)
		}
	}
}
