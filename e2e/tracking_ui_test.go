package e2e

import (
	"context"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/browsertest"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
)

// uiToken is the API token of the tracking UI test.
const uiToken = "e2e-ui-token"

// failScriptRun runs a training on NFLX prices whose 3rd row's Open is
// markup, so that it fails at ingestion with the markup in its error.
func (s *stack) failScriptRun(t *testing.T, id string) {
	t.Helper()
	b, err := os.ReadFile(sharedtest.Path(t, "single", "NFLX.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 5)
	f := strings.Split(lines[3], ",")
	f[1] = "<script>alert(1)</script>"
	lines[3] = strings.Join(f, ",")
	csv := []byte(strings.Join(lines, "\n"))
	key := pipeline.UploadKey(blob.ContentHash(csv))
	if err := blob.PutBytes(context.Background(), s.store, key, csv); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, pipeline.TrainingWorkflow,
		pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err == nil {
		t.Fatalf("a training on a file with markup for a price succeeded")
	}
}

// checkTrackingUI loads every tracking page from a live API over the
// store of real NFLX runs (trained: the completed ones, compare two of
// them with different model parameters; failed: one whose error holds
// <script>) in headless Chromium, clicks through them as a
// person would and asserts what they show. Screenshots go to
// .state/screenshots/<test>/.
func checkTrackingUI(t *testing.T, s *stack, trained []string, compare [2]string, failed string) {
	t.Helper()
	webUI := config.Config{UIURL: "http://127.0.0.1:8233", Namespace: "default"}
	a := api.New(s.store, gotch.CPU, api.WithRunsIndexRefresh(0), api.WithWebUI(webUI.WorkflowURL))
	t.Cleanup(a.Close)
	if err := a.EnableWorkflows(api.WorkflowsConfig{Client: s.c, TaskQueue: s.queue, Namespace: "default", WebUI: webUI.WorkflowURL, Tokens: []string{uiToken}}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	b := browsertest.Start(t)
	tab := b.Open(t, hs.URL+"/")

	// Overview: NFLX with its champion against naive and its last run.
	row := browsertest.Texts(t, tab, "table.overview tbody tr td")
	if len(row) < 8 || row[0] != "NFLX" || !strings.HasPrefix(row[1], "v") || !strings.Contains(strings.Join(row, " "), failed) {
		t.Errorf("overview row %q: want NFLX, its champion and the last run %s", row, failed)
	}
	styled(t, tab)
	browsertest.Screenshot(t, tab, "overview")

	// Runs: every run; sort by test RMSE, then filter the failed ones.
	browsertest.Click(t, tab, `header.top a[href="/ui/runs"]`)
	ids := browsertest.Texts(t, tab, "table.runs tbody tr td:nth-child(2)")
	want := append(slices.Clone(trained), failed)
	if !sameSet(ids, want) {
		t.Fatalf("runs page lists %q, want %q", ids, want)
	}
	browsertest.Click(t, tab, `table.runs th a[title="sort by test RMSE"]`)
	rmse := browsertest.Texts(t, tab, "table.runs tbody tr td:nth-child(13)")
	if !ascendingThenEmpty(t, rmse[:len(trained)]) || rmse[len(rmse)-1] != "" {
		t.Errorf("sorted by test RMSE, the column reads %q", rmse)
	}
	if !strings.Contains(browsertest.URL(t, tab), "sort=rmse") {
		t.Errorf("sorting did not go through the address: %s", browsertest.URL(t, tab))
	}
	browsertest.Screenshot(t, tab, "runs-by-rmse")
	browsertest.SetValue(t, tab, `form.filter select[name="status"]`, runs.StatusFailed)
	browsertest.Submit(t, tab, `form.filter select[name="status"]`)
	if ids := browsertest.Texts(t, tab, "table.runs tbody tr td:nth-child(2)"); len(ids) != 1 || ids[0] != failed {
		t.Fatalf("filtered by failed: %q, want %s", ids, failed)
	}
	if e := browsertest.Text(t, tab, "table.runs td.error"); !strings.Contains(e, "<script>alert(1)</script>") {
		t.Errorf("the failed run's error reads %q: want the markup shown as text", e)
	}
	if n := browsertest.Count(t, tab, "script"); n != 0 {
		t.Errorf("the runs page has %d <script> elements", n)
	}
	browsertest.Screenshot(t, tab, "runs-failed")

	// Compare two runs, ticked on the runs page.
	browsertest.Navigate(t, tab, hs.URL+"/ui/runs")
	for _, id := range compare {
		browsertest.Click(t, tab, `input[type=checkbox][value="`+id+`"]`)
	}
	browsertest.Click(t, tab, "table.runs thead button")
	if u := browsertest.URL(t, tab); !strings.Contains(u, "/ui/compare?") {
		t.Fatalf("Compare went to %s", u)
	}
	if h := browsertest.Text(t, tab, "h1"); h != "Compare 2 runs" {
		t.Errorf("compare page heading %q", h)
	}
	differ := browsertest.Texts(t, tab, "table#params tbody tr td:first-child")
	if !slices.Contains(differ, "model.units") || !slices.Contains(differ, "model.epochs") || slices.Contains(differ, "lookback") {
		t.Errorf("parameters that differ: %q, want model.units and model.epochs", differ)
	}
	common := browsertest.Texts(t, tab, "table#common tbody tr td:first-child")
	if !slices.Equal(common, []string{"A", "B", "naive"}) {
		t.Errorf("common-days table rows %q, want A, B, naive", common)
	}
	decodedCharts(t, tab, 4)
	browsertest.Screenshot(t, tab, "compare")

	// The models page of NFLX, from the navigation.
	browsertest.Click(t, tab, `header.top a[href="/ui/models/NFLX"]`)
	if n := browsertest.Count(t, tab, "table.versions tbody tr"); n != len(trained) {
		t.Errorf("models page lists %d versions, want %d", n, len(trained))
	}
	decodedCharts(t, tab, 1)
	browsertest.Screenshot(t, tab, "models")

	// A run's report: the navigation, readable charts, the Web UI link.
	browsertest.Navigate(t, tab, hs.URL+"/runs/"+trained[0]+"/report")
	if href := browsertest.Eval[string](t, tab, `document.querySelector("header.top a.ext").href`); href != webUI.WorkflowURL(trained[0]) {
		t.Errorf("report's Web UI link %q, want %q", href, webUI.WorkflowURL(trained[0]))
	}
	styled(t, tab)
	imgs := decodedCharts(t, tab, 6)
	var srcs []string
	for _, im := range imgs {
		srcs = append(srcs, im.Src)
	}
	for _, name := range []string{"zoom.png", "cumulative.png"} {
		if !slices.ContainsFunc(srcs, func(s string) bool { return strings.HasSuffix(s, "/plots/"+name) }) {
			t.Errorf("report has no %s among %q", name, srcs)
		}
	}
	browsertest.Screenshot(t, tab, "report")
	if errs := browsertest.JSErrors(t, tab); len(errs) > 0 {
		t.Errorf("script errors: %q", errs)
	}
}

// styled fails the test unless the page's stylesheet applied (a
// Content-Security-Policy that blocks it leaves the navigation a column of
// links).
func styled(t *testing.T, tab context.Context) {
	t.Helper()
	if d := browsertest.Eval[string](t, tab, `getComputedStyle(document.querySelector("header.top")).display`); d != "flex" {
		t.Errorf("the page's style did not apply (navigation display %q)", d)
	}
}

// decodedCharts asserts the page shows at least n images and that every
// one decoded to a chart-sized picture.
func decodedCharts(t *testing.T, tab context.Context, n int) []browsertest.Image {
	t.Helper()
	imgs := browsertest.Images(t, tab)
	if len(imgs) < n {
		t.Errorf("%d images, want at least %d", len(imgs), n)
	}
	for _, im := range imgs {
		if !im.Decoded || im.NaturalWidth < 300 || im.NaturalHeight < 200 {
			t.Errorf("image %q (%s) did not decode to a chart: %+v", im.Alt, truncate(im.Src, 80), im)
		}
	}
	return imgs
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// ascendingThenEmpty reports whether the numbers rise (equal allowed).
func ascendingThenEmpty(t *testing.T, cells []string) bool {
	t.Helper()
	prev := -1.0
	for _, c := range cells {
		v, err := strconv.ParseFloat(c, 64)
		if err != nil || v < prev {
			return false
		}
		prev = v
	}
	return true
}
