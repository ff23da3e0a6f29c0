package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/browsertest"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/registry"
)

const uiModelsTicker = "NFLX"

// uiModelsXSS is a reason with markup, which the page must show as text.
const uiModelsXSS = `<script>alert(1)</script>`

// uiModelsFingerprint is how the alias history names apiToken.
func uiModelsFingerprint() string {
	sum := sha256.Sum256([]byte(apiToken))
	return "api token " + hex.EncodeToString(sum[:4])
}

// uiModelsStore is a store with four versions of NFLX and their alias
// history:
//
//	v1 worse than naive, v2 and v3 better, v4 worse
//	champion v1 (run), v2 (run), v3 (forced, by a token, markup in the
//	reason), rolled back to v2 (by the starter), challenger v4 (run).
//
// The champion is v2, which beats naive; champions have beaten naive since
// v2 first became champion, on 2024-03-03 (the clock moves a day a move).
func uiModelsStore(t *testing.T) blob.Store {
	t.Helper()
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	tick := t0
	reg := registry.Registry{Store: store, Clock: func() time.Time { tick = tick.Add(24 * time.Hour); return tick }}
	files := map[string][]byte{registry.FileWeights: []byte("w"), registry.FileScaler: []byte("{}"), registry.FileConfig: []byte("{}"),
		registry.FileMetrics: []byte("{}"), registry.FileLineage: []byte("{}")}
	scores := [][2]float64{{5.0, 4.8}, {4.0, 4.5}, {3.9, 4.4}, {4.6, 4.4}} // test RMSE, naive RMSE
	for i, sc := range scores {
		v := registry.Version{RunID: uiModelsRun(i + 1), CreatedAt: t0.Add(time.Duration(i) * time.Hour),
			DataSHA256: strings.Repeat(string(rune('a'+i)), 64),
			Metrics: metrics.TestSummary{TestRMSE: sc[0], NaiveRMSE: sc[1], TestMAE: sc[0] * 0.8, NaiveMAE: sc[1] * 0.8,
				N: 250, FirstDate: "2023-01-03", LastDate: "2023-12-29"}}
		if _, err := reg.Register(ctx, uiModelsTicker, v, files); err != nil {
			t.Fatal(err)
		}
	}
	must := func(_ registry.Manifest, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(reg.SetAlias(ctx, uiModelsTicker, registry.Champion, 1, "first model", false, uiModelsRun(1)))
	must(reg.SetAlias(ctx, uiModelsTicker, registry.Champion, 2, "beats the champion", false, uiModelsRun(2)))
	people := reg
	people.Actor = uiModelsFingerprint()
	must(people.SetAlias(ctx, uiModelsTicker, registry.Champion, 3, uiModelsXSS, true, ""))
	people.Actor = "starter (ann@box)"
	must(people.Rollback(ctx, uiModelsTicker, "v3 misbehaves"))
	must(reg.SetAlias(ctx, uiModelsTicker, registry.Challenger, 4, "did not beat the champion", false, uiModelsRun(4)))
	return store
}

func uiModelsRun(v int) string { return "train-NFLX-0000000" + string(rune('0'+v)) }

// uiModelsServer serves store; with tokens, with the workflow routes on (and
// so the promote and rollback buttons).
func uiModelsServer(t *testing.T, store blob.Store, tokens ...string) http.Handler {
	t.Helper()
	srv := api.New(store, gotch.CPU)
	t.Cleanup(srv.Close)
	if len(tokens) > 0 {
		err := srv.EnableWorkflows(api.WorkflowsConfig{Client: newFakeTemporal(), TaskQueue: wfQueue, Namespace: "default", Tokens: tokens,
			WebUI: func(id string) string { return uiBase + id }, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
	}
	return srv.Handler()
}

var (
	uiModelsVersionRow = regexp.MustCompile(`<tr id="v(\d+)"`)
	uiModelsChartSrc   = regexp.MustCompile(`<img class="chart" src="data:image/png;base64,([A-Za-z0-9+/=&#;]+)"`)
	uiModelsHistoryRow = regexp.MustCompile(`(?s)<table class="history">.*?<tbody>(.*?)</tbody>`)
)

func TestUIModelsPage(t *testing.T) {
	h := uiModelsServer(t, uiModelsStore(t))
	rec := uiGet(t, h, "/ui/models/nflx")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()

	var versions []string
	for _, m := range uiModelsVersionRow.FindAllStringSubmatch(body, -1) {
		versions = append(versions, m[1])
	}
	if strings.Join(versions, ",") != "4,3,2,1" {
		t.Errorf("version rows %v, want 4,3,2,1 (newest first)", versions)
	}
	for _, want := range []string{
		"The champion is v2</strong>: test RMSE 4 against naive's 4.5 on the same 250 test days (2023-01-03 – 2023-12-29)",
		`<span class="verdict">11.1% better than naive</span>`,
		"The champion has beaten naive since 2024-03-03 09:00 UTC, when v2 became champion.",
		`<section class="headline beat"`,
		`<a href="/runs/` + uiModelsRun(3) + `/report"><code>` + uiModelsRun(3) + `</code></a>`,
		`<code title="` + strings.Repeat("c", 64) + `">cccccccccccc</code>`,
		`<td class="num">v1</td>`, `<td class="num better">3.9</td>`, `<td class="num worse">4.6</td>`,
		`<td class="num better">0.889</td>`, // MASE of v2: 3.2 / 3.6
		`<span class="badge champion">champion</span>`, `<span class="badge challenger">challenger</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	hist := uiModelsHistoryRow.FindStringSubmatch(body)
	if hist == nil {
		t.Fatal("no alias history table")
	}
	rows := strings.Split(hist[1], "<tr")[1:]
	if len(rows) != 5 {
		t.Fatalf("%d history rows, want 5:\n%s", len(rows), hist[1])
	}
	checks := []struct {
		row   int
		wants []string
	}{
		{0, []string{"2024-03-06 09:00 UTC", "challenger", "none</span> → v4", "run <a href=\"/runs/" + uiModelsRun(4) + "/report\">", "did not beat the champion"}},
		{1, []string{"v3 → v2", "starter (ann@box)", "rollback from v3: v3 misbehaves", `flag forced`, `flag rollback`}},
		{2, []string{"v2 → v3", uiModelsFingerprint(), "&lt;script&gt;alert(1)&lt;/script&gt;", `flag forced`}},
		{3, []string{"v1 → v2", "beats the champion", "run <a href=\"/runs/" + uiModelsRun(2) + "/report\">"}},
		{4, []string{"none</span> → v1", "first model"}},
	}
	for _, c := range checks {
		for _, w := range c.wants {
			if !strings.Contains(rows[c.row], w) {
				t.Errorf("history row %d lacks %q:\n%s", c.row, w, rows[c.row])
			}
		}
	}
	if strings.Contains(rows[2], "flag rollback") || strings.Contains(rows[3], "flag forced") {
		t.Errorf("flags on the wrong rows:\n%s\n%s", rows[2], rows[3])
	}
	if strings.Contains(body, uiModelsXSS) {
		t.Error("the reason's markup is in the page unescaped")
	}

	m := uiModelsChartSrc.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no chart image")
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1])) // html/template writes + as &#43;
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() <= 100 || b.Dy() <= 100 || len(raw) < 5<<10 {
		t.Errorf("chart %v, %d bytes: too small", b, len(raw))
	}

	// No tokens: no buttons, no script.
	for _, no := range []string{"models.js", "button", `id="admin"`} {
		if strings.Contains(body, no) {
			t.Errorf("without tokens the page has %q", no)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestUIModelsButtonsWithTokens(t *testing.T) {
	h := uiModelsServer(t, uiModelsStore(t), apiToken)
	body := uiGet(t, h, "/ui/models/NFLX").Body.String()
	for _, want := range []string{
		`<script src="/ui/models.js" defer></script>`,
		`<section class="admin" id="admin" data-ticker="NFLX">`,
		`<input id="admin-token" type="password" autocomplete="off"`,
		`<button type="button" class="promote" data-version="1">`,
		`<button type="button" class="promote" data-version="3">`,
		`<button type="button" class="promote" data-version="4">`,
		`<button type="button" class="rollback" id="rollback" data-to="1">Roll back to v1</button>`,
		`role="status"`,
		`<a class="ext" href="` + strings.TrimRight(uiBase, "/") + `" rel="noopener">Temporal Web UI ↗</a>`,
		`<a class="ext" href="` + uiBase + uiModelsRun(2) + `" rel="noopener">Temporal ↗</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, `data-version="2"`) {
		t.Error("a promote button for the champion")
	}
	if strings.Contains(body, apiToken) {
		t.Error("the page shows the token")
	}
	js := uiGet(t, h, "/ui/models.js")
	if js.Code != http.StatusOK || !strings.Contains(js.Body.String(), "addEventListener") {
		t.Errorf("models.js: %d", js.Code)
	}
}

func TestUIModelsAPIRecordsTheTokenFingerprint(t *testing.T) {
	store := uiModelsStore(t)
	h := uiModelsServer(t, store, apiToken2, apiToken)
	req := httptest.NewRequest(http.MethodPost, "/models/NFLX/promote", strings.NewReader(`{"version":4,"reason":"try it"}`))
	req.Header.Set("Authorization", bearerAuth)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("promote: %d %s", rec.Code, rec.Body)
	}
	m, err := (registry.Registry{Store: store}).Manifest(context.Background(), uiModelsTicker)
	if err != nil {
		t.Fatal(err)
	}
	last := m.History[len(m.History)-1]
	if last.By != uiModelsFingerprint() || last.Version != 4 {
		t.Errorf("promotion recorded as %+v, want by %q", last, uiModelsFingerprint())
	}
	if strings.Contains(last.By, apiToken) {
		t.Error("the history holds the token")
	}
}

func TestUIModelsNoModelAndBadTicker(t *testing.T) {
	h := uiModelsServer(t, uiModelsStore(t))
	rec := uiGet(t, h, "/ui/models/MSFT")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "No model is registered for MSFT yet") ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("no model: %d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if rec := uiGet(t, h, "/ui/models/no$such"); rec.Code != http.StatusBadRequest {
		t.Errorf("bad ticker: %d %s", rec.Code, rec.Body)
	}
}

func TestUIModelsHeadlines(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.Registry{Store: store}
	files := map[string][]byte{registry.FileWeights: []byte("w"), registry.FileScaler: []byte("{}"), registry.FileConfig: []byte("{}"),
		registry.FileMetrics: []byte("{}"), registry.FileLineage: []byte("{}")}
	h := uiModelsServer(t, store)
	page := func() string { return uiGet(t, h, "/ui/models/AAPL").Body.String() }
	register := func(run string, rmse, naive float64) {
		if _, err := reg.Register(ctx, "AAPL", registry.Version{RunID: run, Metrics: metrics.TestSummary{TestRMSE: rmse, NaiveRMSE: naive, N: 10}}, files); err != nil {
			t.Fatal(err)
		}
	}
	champion := func(v int) {
		if _, err := reg.SetAlias(ctx, "AAPL", registry.Champion, v, "x", false, ""); err != nil {
			t.Fatal(err)
		}
	}
	register("a", 5, 4)
	if p := page(); !strings.Contains(p, "No version has been champion yet.") || !strings.Contains(p, "fewer than 2 versions have test metrics") {
		t.Errorf("no champion, one version:\n%s", p)
	}
	champion(1)
	if p := page(); !strings.Contains(p, "No champion has ever beaten naive.") || !strings.Contains(p, "25.0% worse than naive") {
		t.Errorf("a losing champion:\n%s", p)
	}
	register("b", 3, 4)
	champion(2)
	register("c", 6, 4)
	champion(3)
	if p := page(); !strings.Contains(p, "No champion has beaten naive since") || !strings.Contains(p, "the last that did was v2.") {
		t.Errorf("a winner replaced by a loser:\n%s", p)
	}
}

func TestUIModelsBrowserPromotesAndRollsBack(t *testing.T) {
	store := uiModelsStore(t)
	srv := httptest.NewServer(uiModelsServer(t, store, apiToken))
	t.Cleanup(srv.Close)
	b := browsertest.Start(t)
	tab := b.Open(t, srv.URL+"/ui/models/NFLX")

	if got := browsertest.Text(t, tab, "#headline strong"); got != "The champion is v2" {
		t.Fatalf("headline %q", got)
	}
	imgs := browsertest.Images(t, tab)
	if len(imgs) != 1 || !imgs[0].Decoded || imgs[0].NaturalWidth < 100 {
		t.Errorf("images %+v, want the decoded chart", imgs)
	}

	// A wrong token: the API's 403 is shown, nothing changes.
	browsertest.SetValue(t, tab, "#admin-token", "not-the-token")
	browsertest.Click(t, tab, `button.promote[data-version="1"]`)
	browsertest.Wait(t, tab, "#admin-status.error")
	if got := browsertest.Text(t, tab, "#admin-status"); !strings.Contains(got, "403") || !strings.Contains(got, "wrong token") {
		t.Errorf("status after a wrong token: %q", got)
	}

	browsertest.SetValue(t, tab, "#admin-token", apiToken)
	browsertest.SetValue(t, tab, "#admin-reason", "back to the first model")
	browsertest.Click(t, tab, `button.promote[data-version="1"]`)
	browsertest.Wait(t, tab, "#admin-status.ok")
	if got := browsertest.Text(t, tab, "#admin-status"); got != "v1 is champion (was v2)." {
		t.Errorf("status after promoting: %q", got)
	}
	if got := browsertest.Text(t, tab, "#headline strong"); got != "The champion is v1" {
		t.Errorf("headline after promoting v1: %q", got)
	}
	if got := browsertest.Eval[string](t, tab, `document.getElementById("admin-token").value`); got != apiToken {
		t.Errorf("the token was not kept for the tab: %q", got)
	}
	who := browsertest.Texts(t, tab, "table.history td.who")
	if len(who) == 0 || who[0] != uiModelsFingerprint() {
		t.Errorf("who moved the champion: %q, want %q first", who, uiModelsFingerprint())
	}
	if got := browsertest.Text(t, tab, "table.history td.reason"); got != "back to the first model" {
		t.Errorf("reason %q", got)
	}
	m, err := (registry.Registry{Store: store}).Manifest(context.Background(), uiModelsTicker)
	if err != nil {
		t.Fatal(err)
	}
	if m.Aliases[registry.Champion] != 1 {
		t.Errorf("registry champion v%d, want v1", m.Aliases[registry.Champion])
	}
	browsertest.Screenshot(t, tab, "promoted")

	browsertest.SetValue(t, tab, "#admin-reason", "v1 was worse")
	browsertest.Click(t, tab, "#rollback")
	browsertest.Wait(t, tab, "#admin-status.ok")
	if got := browsertest.Text(t, tab, "#headline strong"); got != "The champion is v2" {
		t.Errorf("headline after the rollback: %q", got)
	}
	if got := browsertest.Text(t, tab, "table.history td.reason"); got != "rollback from v1: v1 was worse" {
		t.Errorf("rollback reason %q", got)
	}
	if errs := browsertest.JSErrors(t, tab); len(errs) != 0 {
		t.Errorf("JavaScript errors: %q", errs)
	}
}
