//go:build soak

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// procSample is one process's resident memory and Go heap in use (bytes)
// and goroutines, from its /metrics (process_resident_memory_bytes,
// go_memstats_heap_inuse_bytes, go_goroutines), and the text scraped.
type procSample struct {
	rss, heap, goroutines float64
	text                  []byte
}

// min is the least of each figure of p and q, with q's text.
func (p procSample) min(q procSample) procSample {
	return procSample{rss: min(p.rss, q.rss), heap: min(p.heap, q.heap), goroutines: min(p.goroutines, q.goroutines), text: q.text}
}

func (p procSample) String() string {
	return fmt.Sprintf("%s (heap %s) %3.0f goroutines", mib(p.rss), mib(p.heap), p.goroutines)
}

// soakSample is the API's and the worker's figures at one time.
type soakSample struct {
	api, worker procSample
}

// sample scrapes both processes once.
func (s *soakStack) sample(ctx context.Context) (soakSample, error) {
	var out soakSample
	var err error
	if out.api, err = scrapeProcess(ctx, s.api+"/metrics"); err != nil {
		return out, fmt.Errorf("API: %w", err)
	}
	if out.worker, err = scrapeProcess(ctx, s.workerURL+"/metrics"); err != nil {
		return out, fmt.Errorf("worker: %w", err)
	}
	return out, nil
}

// sampleMin is the least of n samples a second apart, each figure on its
// own: without a way to make the processes collect their garbage, the
// least of a few is the closest to what they hold.
func (s *soakStack) sampleMin(n int) (soakSample, error) {
	var m soakSample
	for i := range n {
		if i > 0 {
			time.Sleep(time.Second)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		x, err := s.sample(ctx)
		cancel()
		if err != nil {
			return m, err
		}
		if i == 0 {
			m = x
			continue
		}
		m = soakSample{api: m.api.min(x.api), worker: m.worker.min(x.worker)}
	}
	return m, nil
}

// scrapeProcess reads a process's figures from its Prometheus text.
func scrapeProcess(ctx context.Context, url string) (procSample, error) {
	var p procSample
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return p, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return p, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if p.text, err = io.ReadAll(resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		return p, fmt.Errorf("scrape %s: HTTP %d (%v)", url, resp.StatusCode, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(p.text))
	if err != nil {
		return p, fmt.Errorf("parse %s: %w", url, err)
	}
	for _, g := range []struct {
		name string
		dst  *float64
	}{{"process_resident_memory_bytes", &p.rss}, {"go_memstats_heap_inuse_bytes", &p.heap}, {"go_goroutines", &p.goroutines}} {
		f := fams[g.name]
		if f == nil || len(f.GetMetric()) == 0 || f.GetMetric()[0].GetGauge() == nil {
			return p, fmt.Errorf("%s has no gauge %s", url, g.name)
		}
		*g.dst = f.GetMetric()[0].GetGauge().GetValue()
	}
	return p, nil
}

// writeMetrics keeps both processes' /metrics text of sample x as
// <dir>/<api|worker>-metrics-<when>.txt, to compare start and end.
func writeMetrics(dir, when string, x soakSample) error {
	for name, text := range map[string][]byte{"api": x.api.text, "worker": x.worker.text} {
		if err := os.WriteFile(filepath.Join(dir, name+"-metrics-"+when+".txt"), text, 0o644); err != nil {
			return fmt.Errorf("keep %s metrics: %w", name, err)
		}
	}
	return nil
}

// sampleTrace keeps a sample every few seconds during the soak and logs
// it with the requests so far: how memory and goroutines moved.
type sampleTrace struct {
	mu      sync.Mutex // guards samples and failed
	samples []string
	failed  int // scrapes that got no answer: a process down or stuck
}

func startSampler(ctx context.Context, wg *sync.WaitGroup, s *soakStack, load *loadGenerator, every time.Duration, t *testing.T) *sampleTrace {
	tr := &sampleTrace{}
	start := time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			line := fmt.Sprintf("%4.0fs %8d requests", time.Since(start).Seconds(), load.sent.Load())
			x, err := s.sample(ctx)
			switch {
			case ctx.Err() != nil:
				return // the soak ended during the scrape
			case err != nil:
				line += " sample: " + err.Error()
			default:
				line += fmt.Sprintf("  API %s  worker %s", x.api, x.worker)
			}
			t.Log(line)
			tr.mu.Lock()
			tr.samples = append(tr.samples, line)
			if err != nil {
				tr.failed++
			}
			tr.mu.Unlock()
		}
	}()
	return tr
}

// all returns the sample lines and how many scrapes failed.
func (tr *sampleTrace) all() ([]string, int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.samples), tr.failed
}

// soakReport is what `make soak` prints.
type soakReport struct {
	duration, ran time.Duration
	conns         int
	load          loadResult
	prom          promoterResult
	retrain       runOutcome
	failing       runOutcome
	start, end    soakSample
	sampleErr     error // the start or the end sample could not be taken
	trace         []string
	traceFailed   int // scrapes during the soak that got no answer
}

// flatLimit is how much a figure may grow from the start sample to the
// end one.
const flatLimit = 0.10

func (r soakReport) String() string {
	var b strings.Builder
	w := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "%-22s %s\n", name, fmt.Sprintf(format, args...))
	}
	l := r.load
	fmt.Fprintf(&b, "soak: %s of /predict load from %d connections", r.duration, r.conns)
	if r.ran > r.duration+time.Second {
		fmt.Fprintf(&b, " (ran %s: until the retrain and the failing run ended)", r.ran.Round(time.Second))
	}
	b.WriteString("\n")
	w("requests", "%d", l.requests)
	w("req/s", "%.1f", float64(l.requests)/r.ran.Seconds())
	w("non-2xx", "%d", l.non2xx)
	w("no answer", "%d", l.transport)
	w("latency p50 / p99", "%s / %s (max %s)", ms(percentile(l.latencies, 0.50)), ms(percentile(l.latencies, 0.99)), ms(percentile(l.latencies, 1)))
	w("answered by", "%s", versionCounts(l.versions))
	w("promotions", "%d", r.prom.promotions)
	w("rollbacks", "%d", r.prom.rollbacks)
	w("promoter failures", "%d", r.prom.failed)
	w("retrain", "%s (%s)", r.retrain.detail, r.retrain.took.Round(time.Second))
	w("failing run", "%s (%s)", r.failing.detail, r.failing.took.Round(time.Second))
	fmt.Fprintf(&b, "%-22s %12s %12s %8s\n", "", "start", "end", "change")
	for _, f := range r.figures() {
		fmt.Fprintf(&b, "%-22s %12s %12s %+7.1f%%\n", f.name, f.show(f.start), f.show(f.end), 100*(f.end-f.start)/f.start)
	}
	for _, line := range r.trace {
		fmt.Fprintf(&b, "sample %s\n", line)
	}
	for _, f := range append(slices.Clone(l.failures), r.prom.failures...) {
		fmt.Fprintf(&b, "failure: %s\n", f)
	}
	b.WriteString(r.verdict() + "\n")
	return b.String()
}

// verdict is "ok" or "FAIL: " and everything that broke.
func (r soakReport) verdict() string {
	var broke []string
	l := r.load
	if l.requests == 0 {
		broke = append(broke, "no /predict request was answered")
	}
	if l.non2xx > 0 || l.transport > 0 {
		broke = append(broke, fmt.Sprintf("%d non-2xx and %d unanswered /predict requests", l.non2xx, l.transport))
	}
	if r.prom.failed > 0 || r.prom.promotions == 0 || r.prom.rollbacks == 0 {
		broke = append(broke, fmt.Sprintf("promoter: %d promotions, %d rollbacks, %d failed", r.prom.promotions, r.prom.rollbacks, r.prom.failed))
	}
	if r.prom.promotions > 0 && servedModels(l.versions) < 2 {
		broke = append(broke, "the promotions did not reach /predict: answered by "+versionCounts(l.versions))
	}
	if !r.retrain.ok {
		broke = append(broke, "retrain "+r.retrain.detail)
	}
	if !r.failing.ok {
		broke = append(broke, "failing run "+r.failing.detail)
	}
	if r.sampleErr != nil {
		broke = append(broke, "sample: "+r.sampleErr.Error())
	}
	if r.traceFailed > 0 {
		broke = append(broke, fmt.Sprintf("%d scrapes of /metrics during the soak got no answer", r.traceFailed))
	}
	for _, f := range r.figures() {
		if f.checked && f.end > f.start*(1+flatLimit) {
			broke = append(broke, fmt.Sprintf("%s grew %.1f%% (more than %.0f%%)", f.name, 100*(f.end-f.start)/f.start, 100*flatLimit))
		}
	}
	if len(broke) == 0 {
		return "ok"
	}
	return "FAIL: " + strings.Join(broke, "; ")
}

// figure is one start/end pair; checked ones must stay flat, the others
// say where memory went (Go heap or not).
type figure struct {
	name       string
	start, end float64
	show       func(float64) string
	checked    bool
}

// figures are the pairs of the flatness check; none when a sample is
// missing.
func (r soakReport) figures() []figure {
	if r.sampleErr != nil {
		return nil
	}
	count := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	return []figure{
		{"API RSS", r.start.api.rss, r.end.api.rss, mib, true},
		{"API goroutines", r.start.api.goroutines, r.end.api.goroutines, count, true},
		{"worker RSS", r.start.worker.rss, r.end.worker.rss, mib, true},
		{"worker goroutines", r.start.worker.goroutines, r.end.worker.goroutines, count, true},
		{"API Go heap (info)", r.start.api.heap, r.end.api.heap, mib, false},
		{"worker Go heap (info)", r.start.worker.heap, r.end.worker.heap, mib, false},
	}
}

// servedModels counts the model versions (not the naive forecast) that
// answered.
func servedModels(versions map[int]int) int {
	n := 0
	for v := range versions {
		if v > 0 {
			n++
		}
	}
	return n
}

func versionCounts(versions map[int]int) string {
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(versions)) {
		name := fmt.Sprintf("v%d", v)
		if v == 0 {
			name = "naive"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, versions[v]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
