package browsertest

import (
	"bytes"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

type row struct {
	Name  string
	Value int
}

var rows = []row{{"beta", 20}, {"alpha", 30}, {"gamma", 10}, {"delta", 40}}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><title>browsertest</title>
<style>
body { font-family: sans-serif; margin: 24px; }
table { border-collapse: collapse; } td, th { border: 1px solid #999; padding: 4px 12px; }
.tall { height: 1400px; background: linear-gradient(#eef, #fee); }
</style></head>
<body>
<h1>Runs</h1>
<form id="filter" action="/" method="get">
  <input id="q" name="q" value="{{.Q}}" placeholder="name contains">
  <input type="hidden" name="sort" value="{{.Sort}}">
  <button id="apply" type="submit">Filter</button>
</form>
<table id="runs">
  <thead><tr>
    <th><a id="sort-name" href="/?sort=name&amp;q={{.Q}}">Name</a></th>
    <th><a id="sort-value" href="/?sort=value&amp;q={{.Q}}">Value</a></th>
  </tr></thead>
  <tbody>{{range .Rows}}<tr><td class="name">{{.Name}}</td><td class="value">{{.Value}}</td></tr>{{end}}</tbody>
</table>
<p><button id="toggle" type="button" onclick="document.getElementById('state').textContent = 'on'">Toggle</button>
<span id="state">off</span></p>
<img id="chart" src="/chart.png" alt="bars">
<img id="diagram" src="/chart.svg" alt="diagram">
<img id="broken" src="/missing.png" alt="missing">
<div class="tall"></div>
<p id="end">end of page</p>
</body></html>`))

// chartPNG draws a 480×240 bar chart with a gradient background.
func chartPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 480, 240))
	for y := range 240 {
		for x := range 480 {
			img.Set(x, y, color.RGBA{uint8(200 + x%56), uint8(220 - y/8), 255, 255})
		}
	}
	for i, r := range rows {
		for y := 240 - r.Value*5; y < 240; y++ {
			for x := 40 + i*110; x < 120+i*110; x++ {
				img.Set(x, y, color.RGBA{uint8(40 * i), 90, 160, 255})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const chartSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">
<rect width="200" height="100" fill="#fff"/><polyline points="0,90 50,40 100,60 150,10 200,30" fill="none" stroke="#c33" stroke-width="3"/></svg>`

func server(t *testing.T) *httptest.Server {
	chart := chartPNG(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		q, sort := r.URL.Query().Get("q"), r.URL.Query().Get("sort")
		var shown []row
		for _, x := range rows {
			if strings.Contains(x.Name, q) {
				shown = append(shown, x)
			}
		}
		switch sort {
		case "name":
			slices.SortFunc(shown, func(a, b row) int { return strings.Compare(a.Name, b.Name) })
		case "value":
			slices.SortFunc(shown, func(a, b row) int { return a.Value - b.Value })
		}
		if err := pageTmpl.Execute(w, map[string]any{"Q": q, "Sort": sort, "Rows": shown}); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("GET /chart.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(chart)
	})
	mux.HandleFunc("GET /chart.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(w, chartSVG)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowser(t *testing.T) {
	srv := server(t)
	b := Start(t)
	tab := b.Open(t, srv.URL+"/")

	if got := Text(t, tab, "h1"); got != "Runs" {
		t.Errorf("h1 = %q, want Runs", got)
	}
	if n := Count(t, tab, "#runs tbody tr"); n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
	if n := Count(t, tab, "#no-such-thing"); n != 0 {
		t.Errorf("Count of a missing selector = %d, want 0", n)
	}
	names := func() []string { return Texts(t, tab, "#runs td.name") }
	if got, want := names(), []string{"beta", "alpha", "gamma", "delta"}; !slices.Equal(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}

	if errs := JSErrors(t, tab); len(errs) != 0 {
		t.Errorf("JavaScript errors on a clean page: %q", errs)
	}
	Eval[bool](t, tab, `setTimeout(() => { console.error("bad", 42); null.x; }), true`)
	var errs []string
	for deadline := time.Now().Add(5 * time.Second); len(errs) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		errs = JSErrors(t, tab)
	}
	if len(errs) != 2 || !strings.Contains(errs[0], "bad 42") || !strings.Contains(errs[1], "TypeError") {
		t.Errorf("JSErrors = %q, want the console.error and the TypeError", errs)
	}

	// A click that stays on the page returns and the page has changed.
	Click(t, tab, "#toggle")
	if got := Text(t, tab, "#state"); got != "on" {
		t.Errorf("after the toggle, state = %q, want on", got)
	}

	// A click on a sort header loads the sorted page before returning.
	Click(t, tab, "#sort-value")
	if u := URL(t, tab); !strings.Contains(u, "sort=value") {
		t.Errorf("after sorting, URL = %s", u)
	}
	if got, want := Texts(t, tab, "#runs td.value"), []string{"10", "20", "30", "40"}; !slices.Equal(got, want) {
		t.Errorf("values sorted = %q, want %q", got, want)
	}
	if got := Text(t, tab, "#state"); got != "off" {
		t.Errorf("the sorted page is a new document, state = %q, want off", got)
	}

	// The filter form, through its button and through Submit.
	SetValue(t, tab, "#q", "ta")
	Click(t, tab, "#apply")
	if got, want := names(), []string{"beta", "delta"}; !slices.Equal(got, want) {
		t.Errorf("filtered on ta (sorted by value) = %q, want %q", got, want)
	}
	SetValue(t, tab, "#q", "al")
	Submit(t, tab, "#q")
	if got, want := names(), []string{"alpha"}; !slices.Equal(got, want) {
		t.Errorf("filtered on al = %q, want %q", got, want)
	}
	if u := URL(t, tab); !strings.Contains(u, "q=al") || !strings.Contains(u, "sort=value") {
		t.Errorf("after filtering, URL = %s", u)
	}

	imgs := Images(t, tab)
	if len(imgs) != 3 {
		t.Fatalf("%d images, want 3: %+v", len(imgs), imgs)
	}
	if c := imgs[0]; !c.Decoded || c.NaturalWidth != 480 || c.NaturalHeight != 240 || c.Alt != "bars" {
		t.Errorf("PNG chart = %+v, want decoded 480×240", c)
	}
	if c := imgs[1]; !c.Decoded || c.NaturalWidth != 200 || c.NaturalHeight != 100 {
		t.Errorf("SVG chart = %+v, want decoded 200×100", c)
	}
	if c := imgs[2]; c.Decoded || c.NaturalWidth != 0 {
		t.Errorf("404 image = %+v, want not decoded", c)
	}

	path := Screenshot(t, tab, "filtered")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 5<<10 {
		t.Errorf("screenshot is %d bytes, want > 5 KB", len(data))
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// The whole page: the window's width, and past the window's height
	// down to the paragraph below the 1400 px block.
	if bd := img.Bounds(); bd.Dx() != Width || bd.Dy() < 1400+240 {
		t.Errorf("screenshot is %v, want %d wide and the whole page (> 1640 high)", bd.Size(), Width)
	}
	t.Logf("%d bytes, %v", len(data), img.Bounds().Size())
}

// Two tabs of one browser are independent.
func TestTabs(t *testing.T) {
	srv := server(t)
	b := Start(t)
	one := b.Open(t, srv.URL+"/?sort=name")
	two := b.Open(t, srv.URL+"/?q=gamma")
	if got := Texts(t, one, "#runs td.name"); !slices.Equal(got, []string{"alpha", "beta", "delta", "gamma"}) {
		t.Errorf("tab one = %q", got)
	}
	if n := Count(t, two, "#runs tbody tr"); n != 1 {
		t.Errorf("tab two has %d rows, want 1", n)
	}
}

// skipRecorder records a Skip instead of reporting it.
type skipRecorder struct {
	testing.TB
	skipped string
}

func (s *skipRecorder) Skip(args ...any) {
	s.skipped = fmt.Sprint(args...)
	goruntime.Goexit()
}

func TestStartSkipsWithoutChromium(t *testing.T) {
	t.Setenv("FINSIGHT_CHROMIUM", "")
	t.Setenv("PATH", t.TempDir())
	rec := &skipRecorder{TB: t}
	done := make(chan bool)
	go func() {
		defer close(done)
		Start(rec)
		done <- true
	}()
	if <-done {
		t.Fatal("Start went on without a Chromium")
	}
	if !strings.Contains(rec.skipped, "make deps") || !strings.Contains(rec.skipped, "FINSIGHT_CHROMIUM") {
		t.Errorf("skip message %q does not say how to get Chromium", rec.skipped)
	}
}

func TestChromiumPathEnv(t *testing.T) {
	t.Setenv("FINSIGHT_CHROMIUM", "/nonexistent/chromium")
	if _, err := ChromiumPath(); err == nil || !strings.Contains(err.Error(), "FINSIGHT_CHROMIUM") {
		t.Errorf("a FINSIGHT_CHROMIUM that does not exist: err = %v, want one naming it", err)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"TestRuns/sort_by_value": "TestRuns_sort_by_value",
		"../x":                   "x",
		"":                       "_",
		"a b.c":                  "a_b.c",
	} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
