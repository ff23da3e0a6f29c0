// Package browsertest drives a headless Chromium from tests, through
// chromedp, so that a test can load a page from a live server, click,
// fill forms and assert what a person would see: texts, row counts,
// images that decode, and full-page screenshots.
//
// Chromium is $FINSIGHT_CHROMIUM when set, else `chromium` on PATH (make
// deps installs Debian's chromium package). Only a missing Chromium skips
// a test, with a message that says how to install it; anything else that
// goes wrong fails it. Every action has a 30 s limit, so a hung browser
// fails the test instead of hanging it.
//
//	b := browsertest.Start(t)
//	tab := b.Open(t, srv.URL+"/ui/runs")
//	browsertest.Click(t, tab, "th a[href*=sort]")
//	if n := browsertest.Count(t, tab, "tbody tr"); n != 3 { ... }
//	browsertest.Screenshot(t, tab, "runs")
//
// Screenshots go to .state/screenshots/<test>/<name>.png under the
// repository root (ignored by git), or under $FINSIGHT_SCREENSHOTS.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/finsight/finsight/internal/sharedtest"
)

// Timeout bounds every action: starting the browser, opening a tab, each
// query, click and screenshot.
const Timeout = 30 * time.Second

// Window size of the browser, in CSS pixels.
const (
	Width  = 1280
	Height = 900
)

// navigationGrace is how long Click waits for a click to start a
// navigation before it takes the click as one that stays on the page.
const navigationGrace = 500 * time.Millisecond

// Browser is one headless Chromium process, closed when the test ends.
type Browser struct {
	ctx    context.Context        // the first tab; new tabs are its children
	output *sharedtest.SyncBuffer // Chromium's stdout and stderr
}

// ChromiumPath returns the Chromium to run: $FINSIGHT_CHROMIUM when set,
// else `chromium` on PATH. It returns "" when there is none.
func ChromiumPath() (string, error) {
	if p := os.Getenv("FINSIGHT_CHROMIUM"); p != "" {
		full, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("FINSIGHT_CHROMIUM=%s: %w", p, err)
		}
		return full, nil
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return "", nil
	}
	return p, nil
}

// Start starts a headless Chromium for the test and closes it when the
// test ends. It skips the test when no Chromium is installed, and fails
// it when $FINSIGHT_CHROMIUM names no program or the browser does not
// start within Timeout.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := ChromiumPath()
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	if path == "" {
		t.Skip("browsertest: Chromium is not installed (no `chromium` on PATH, FINSIGHT_CHROMIUM unset); " +
			"`make deps` installs it (Debian package chromium), or set FINSIGHT_CHROMIUM to a Chromium or Chrome binary")
	}
	out := &sharedtest.SyncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI and containers
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), // removed after the browser exits (cleanups run last-in first-out)
		chromedp.WindowSize(Width, Height),
		chromedp.Flag("lang", "en-US"),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the process to exit
	})
	b := &Browser{ctx: ctx, output: out}
	// The first action starts the process and binds it to the context it
	// runs with, so it runs with ctx itself, under a watchdog.
	if err := b.within(ctx, cancel, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("browsertest: starting %s: %v%s", path, err, b.outputTail())
	}
	return b
}

// within runs f, cancelling the context of a chromedp target that f starts
// (through cancel) when f takes longer than Timeout.
func (b *Browser) within(ctx context.Context, cancel context.CancelFunc, f func() error) error {
	timer := time.AfterFunc(Timeout, cancel)
	err := f()
	if !timer.Stop() {
		return fmt.Errorf("no answer within %v (%w)", Timeout, errors.Join(err, ctx.Err()))
	}
	return err
}

// outputTail returns the end of Chromium's output, for failure messages.
func (b *Browser) outputTail() string {
	s := strings.TrimSpace(b.output.String())
	if s == "" {
		return ""
	}
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return "\nchromium output:\n" + s
}

// Open opens url in a new tab and waits for its load event. The tab is a
// context for the other functions of this package (and for chromedp); it
// closes when the test ends.
func (b *Browser) Open(t testing.TB, url string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	if err := b.within(tab, cancel, func() error { return chromedp.Do(tab) }); err != nil {
		t.Fatalf("browsertest: opening a tab: %v%s", err, b.outputTail())
	}
	errs := &jsErrors{}
	if err := chromedp.Listen(tab, errs.add); err != nil {
		t.Fatalf("browsertest: listening to the tab: %v", err)
	}
	tab = context.WithValue(tab, jsErrorsKey{}, errs)
	Navigate(t, tab, url)
	return tab
}

type jsErrorsKey struct{}

// jsErrors collects a tab's uncaught exceptions and console.error calls.
type jsErrors struct {
	mu   sync.Mutex
	msgs []string
}

// add runs on the loop that reads the tab's messages, so it only appends.
func (e *jsErrors) add(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		msg = fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber+1)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			}
		}
		msg = "console.error: " + strings.Join(parts, " ")
	default:
		return
	}
	e.mu.Lock()
	e.msgs = append(e.msgs, msg)
	e.mu.Unlock()
}

// JSErrors returns the uncaught JavaScript exceptions and console.error
// calls of every page the tab (from Open) has shown so far, so a test can
// assert that a page's scripts ran cleanly.
func JSErrors(t testing.TB, tab context.Context) []string {
	t.Helper()
	e, ok := tab.Value(jsErrorsKey{}).(*jsErrors)
	if !ok {
		t.Fatalf("browsertest: JSErrors needs a tab from Browser.Open")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.msgs)
}

// do runs the actions on the tab within Timeout, failing the test with
// what on an error.
func do(t testing.TB, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browsertest: %s: %v", what, explain(err))
	}
}

// run runs one action on the tab within Timeout and returns its value.
func run[T any](t testing.TB, tab context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("browsertest: %s: %v", what, explain(err))
	}
	return v
}

// explain adds what a timeout usually means to err.
func explain(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer within %v (a selector that matches nothing waits until then)", err, Timeout)
	}
	return err
}

// Navigate loads url in the tab and waits for its load event.
func Navigate(t testing.TB, tab context.Context, url string) {
	t.Helper()
	do(t, tab, "navigating to "+url, chromedp.Navigate(url))
}

// URL returns the address of the document in the tab.
func URL(t testing.TB, tab context.Context) string {
	t.Helper()
	return run(t, tab, "reading the location", chromedp.Location())
}

// Wait waits until an element matching the CSS selector is visible.
func Wait(t testing.TB, tab context.Context, selector string) {
	t.Helper()
	do(t, tab, "waiting for "+selector, chromedp.WaitVisible(chromedp.CSS(selector)))
}

// Text returns the visible text of the first element matching the CSS
// selector, waiting for one to exist.
func Text(t testing.TB, tab context.Context, selector string) string {
	t.Helper()
	return strings.TrimSpace(run(t, tab, "reading the text of "+selector, chromedp.Text(chromedp.CSS(selector))))
}

// Texts returns the visible text of every element matching the CSS
// selector, in document order (none when nothing matches), for example
// one column of a table: "tbody tr td:nth-child(2)".
func Texts(t testing.TB, tab context.Context, selector string) []string {
	t.Helper()
	return Eval[[]string](t, tab, fmt.Sprintf(
		`Array.from(document.querySelectorAll(%s), e => e.innerText.trim())`, jsString(selector)))
}

// Count returns how many elements match the CSS selector now (0 when
// none: it does not wait).
func Count(t testing.TB, tab context.Context, selector string) int {
	t.Helper()
	return Eval[int](t, tab, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(selector)))
}

// Eval evaluates a JavaScript expression in the page and decodes its
// JSON value into T.
func Eval[T any](t testing.TB, tab context.Context, expression string) T {
	t.Helper()
	return run(t, tab, "evaluating "+expression, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
}

// Click clicks the first visible element matching the CSS selector (a
// real mouse click at its centre, after scrolling it into view). When the
// click starts a navigation (a link, a submit button) Click waits for the
// new page's load event; otherwise it returns after a short grace period.
func Click(t testing.TB, tab context.Context, selector string) {
	t.Helper()
	do(t, tab, "clicking "+selector, navigating(chromedp.Click(chromedp.CSS(selector))))
}

// SetValue sets the value of the first input, select or textarea matching
// the CSS selector, and fires its input and change events.
func SetValue(t testing.TB, tab context.Context, selector, value string) {
	t.Helper()
	do(t, tab, "setting "+selector, chromedp.WaitReady(chromedp.CSS(selector)), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
  const e = document.querySelector(%s);
  e.value = %s;
  e.dispatchEvent(new Event("input", {bubbles: true}));
  e.dispatchEvent(new Event("change", {bubbles: true}));
  return true;
})()`, jsString(selector), jsString(value)))(ctx, tg)
		return err
	}))
}

// Submit submits the form of the first element matching the CSS selector
// (the form itself or a field of it) as a submit button would, and waits
// for the page that answers it.
func Submit(t testing.TB, tab context.Context, selector string) {
	t.Helper()
	do(t, tab, "submitting "+selector, chromedp.WaitReady(chromedp.CSS(selector)), navigating(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		ok, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
  const e = document.querySelector(%s);
  const f = e instanceof HTMLFormElement ? e : e.form;
  if (!f) return false;
  f.requestSubmit();
  return true;
})()`, jsString(selector)))(ctx, tg)
		if err == nil && !ok {
			err = fmt.Errorf("%s is neither a form nor in one", selector)
		}
		return err
	})))
}

// navigating runs the trigger and, when it starts a navigation of the tab
// within navigationGrace, waits for the new document's load event.
func navigating(trigger chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		lctx, cancel := context.WithCancel(ctx)
		defer cancel()
		started := cdp.Events(lctx, tg, page.FrameStartedLoading)
		loaded := cdp.Events(lctx, tg, page.LoadEventFired)
		if _, err := trigger(ctx, tg); err != nil {
			return chromedp.Void{}, err
		}
		gctx, gcancel := context.WithTimeout(lctx, navigationGrace)
		defer gcancel()
		if !first(gctx, started) {
			if ctx.Err() != nil {
				return chromedp.Void{}, ctx.Err()
			}
			return chromedp.Void{}, nil // stayed on the page
		}
		if !first(ctx, loaded) {
			return chromedp.Void{}, fmt.Errorf("the navigation it started did not load: %w", context.Cause(ctx))
		}
		return chromedp.Void{}, nil
	}
}

// first reports whether the event stream yields an event before ctx ends.
func first[E any](ctx context.Context, events iter.Seq2[E, error]) bool {
	got := make(chan bool, 1)
	go func() {
		for _, err := range events {
			got <- err == nil
			return
		}
		got <- false
	}()
	select {
	case ok := <-got:
		return ok
	case <-ctx.Done():
		return false
	}
}

// Image is what the page shows of one <img>.
type Image struct {
	Src           string `json:"src"`
	Alt           string `json:"alt"`
	NaturalWidth  int    `json:"naturalWidth"`
	NaturalHeight int    `json:"naturalHeight"`
	Width         int    `json:"width"`   // rendered width, CSS pixels
	Height        int    `json:"height"`  // rendered height, CSS pixels
	Decoded       bool   `json:"decoded"` // loaded and decoded: naturalWidth > 0
}

// Images waits until every <img> of the page has loaded or failed, and
// returns each one in document order. Decoded is false for an image whose
// address failed or whose bytes are not an image the browser can decode
// (PNG, SVG, ...).
func Images(t testing.TB, tab context.Context) []Image {
	t.Helper()
	return Eval[[]Image](t, tab, `Promise.all(Array.from(document.images, i => i.complete ? null :
  new Promise(r => { i.addEventListener("load", r, {once: true}); i.addEventListener("error", r, {once: true}); })))
.then(() => Array.from(document.images, i => ({
  src: i.currentSrc || i.src, alt: i.alt,
  naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
  width: Math.round(i.getBoundingClientRect().width), height: Math.round(i.getBoundingClientRect().height),
  decoded: i.complete && i.naturalWidth > 0,
})))`)
}

// Screenshot writes a PNG of the whole page (beyond the window, down to
// the end of the document) to <dir>/<test>/<name>.png and returns its
// path; dir is $FINSIGHT_SCREENSHOTS, else .state/screenshots under the
// repository root.
func Screenshot(t testing.TB, tab context.Context, name string) string {
	t.Helper()
	data := run(t, tab, "taking a screenshot", fullPage)
	if _, err := png.DecodeConfig(bytes.NewReader(data)); err != nil {
		t.Fatalf("browsertest: the screenshot is not a PNG: %v", err)
	}
	dir := filepath.Join(screenshotDir(t), safeName(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	path := filepath.Join(dir, safeName(name)+".png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Logf("screenshot %s", path)
	return path
}

// fullPage captures the document's whole content size as a PNG.
func fullPage(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
	m, err := cdp.Call(ctx, tg, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	w, h := float64(Width), float64(Height)
	if c := m.CSSContentSize; c != nil {
		w, h = max(w, c.Width), max(h, c.Height)
	}
	beyond, surface := true, true
	r, err := cdp.Call(ctx, tg, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  &page.Viewport{Width: w, Height: h, Scale: 1},
		CaptureBeyondViewport: &beyond,
		FromSurface:           &surface,
	})
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// screenshotDir is $FINSIGHT_SCREENSHOTS, else .state/screenshots under
// the directory that holds go.mod.
func screenshotDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FINSIGHT_SCREENSHOTS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("browsertest: working directory: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, ".state", "screenshots")
		}
		if filepath.Dir(d) == d {
			t.Fatalf("browsertest: no go.mod above %s (set FINSIGHT_SCREENSHOTS)", wd)
		}
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName turns a test or screenshot name into one path element.
func safeName(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_.")
	if s == "" {
		return "_"
	}
	return s
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a JavaScript string literal (json escapes U+2028, U+2029)
	return string(b)
}
