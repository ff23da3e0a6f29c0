//go:build soak

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soakConns is how many goroutines POST /predict at once, each on its own
// kept-alive connection, one request after another.
const soakConns = 4

// loadGenerator POSTs valid /predict requests (real NFLX windows of 50
// Opens) and keeps what came back.
type loadGenerator struct {
	url    string
	client *http.Client
	bodies [][]byte
	sent   atomic.Int64 // requests answered so far, for the progress lines

	mu  sync.Mutex // guards res while the goroutines merge into it
	res loadResult
}

// loadResult is what the load saw.
type loadResult struct {
	requests  int
	non2xx    int
	transport int             // requests with no answer (connection refused, reset…)
	latencies []time.Duration // of every answered request
	versions  map[int]int     // answers by model version (0: the naive forecast)
	failures  []string        // the first few non-2xx or transport errors
}

func newLoadGenerator(t *testing.T, api string) *loadGenerator {
	t.Helper()
	return &loadGenerator{
		url:    api + "/predict",
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: soakConns}},
		bodies: predictBodies(t, 200),
		res:    loadResult{versions: map[int]int{}},
	}
}

// predictBodies are n /predict bodies: the last n windows of 50 Opens of
// NFLX's history up to 2021.
func predictBodies(t *testing.T, n int) [][]byte {
	t.Helper()
	const lookback = 50
	lines := strings.Split(strings.TrimSpace(string(nflxUntil2021(t))), "\n")[1:]
	opens := make([]float64, len(lines))
	for i, l := range lines {
		f := strings.Split(l, ",")
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("NFLX row %q: %v", l, err)
		}
		opens[i] = v
	}
	out := make([][]byte, n)
	for i := range out {
		end := len(opens) - i
		b, err := json.Marshal(map[string]any{"ticker": "NFLX", "open": opens[end-lookback : end]})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func (g *loadGenerator) start(ctx context.Context, wg *sync.WaitGroup, conns int) {
	for i := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); g.post(ctx, i) }()
	}
}

// post sends requests one after another until ctx ends, then merges what
// it saw. The request under way when ctx ends is finished, not cut off: a
// cancelled request closes its connection, and the end sample would then
// count fewer of the API's connection goroutines than the start one.
func (g *loadGenerator) post(ctx context.Context, first int) {
	mine := loadResult{versions: map[int]int{}}
	for i := first; ctx.Err() == nil; i++ {
		body := g.bodies[i%len(g.bodies)]
		start := time.Now()
		status, version, err := g.postOne(context.WithoutCancel(ctx), body)
		d := time.Since(start)
		mine.requests++
		g.sent.Add(1)
		switch {
		case status == 0:
			mine.transport++
			mine.failures = appendFailure(mine.failures, err.Error())
			time.Sleep(100 * time.Millisecond) // a dead API is not hammered
			continue
		case err != nil: // not 2xx, or a 2xx that is not a prediction
			mine.non2xx++
			mine.failures = appendFailure(mine.failures, err.Error())
		default:
			mine.versions[version]++
		}
		mine.latencies = append(mine.latencies, d)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.res.requests += mine.requests
	g.res.non2xx += mine.non2xx
	g.res.transport += mine.transport
	g.res.latencies = append(g.res.latencies, mine.latencies...)
	for v, n := range mine.versions {
		g.res.versions[v] += n
	}
	for _, f := range mine.failures {
		g.res.failures = appendFailure(g.res.failures, f)
	}
}

// postOne sends one request and returns its status (0: no answer) and,
// for a 2xx, the model version that answered; an error for anything but a
// 2xx with a JSON answer.
func (g *loadGenerator) postOne(ctx context.Context, body []byte) (int, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	var ans struct {
		ModelVersion int `json:"model_version"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return resp.StatusCode, 0, fmt.Errorf("HTTP %d with an answer that is not JSON: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, ans.ModelVersion, nil
}

// appendFailure keeps the first 5 failures.
func appendFailure(fs []string, f string) []string {
	if len(fs) >= 5 {
		return fs
	}
	return append(fs, f)
}

// result is what the load saw; call it once the goroutines have ended.
func (g *loadGenerator) result() loadResult {
	g.mu.Lock()
	defer g.mu.Unlock()
	slices.Sort(g.res.latencies)
	return g.res
}

// percentile of sorted latencies (0 when there are none).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// promoter moves the ticker's champion through the API, as an operator
// would: promote the other version, then roll back, and again.
type promoter struct {
	api, token, ticker string
	versions           [2]int // the two versions it moves between
	client             http.Client

	mu  sync.Mutex // guards res
	res promoterResult
}

type promoterResult struct {
	promotions, rollbacks int
	failed                int
	failures              []string
}

// run promotes and rolls back in turn, every interval, until ctx ends;
// the move under way then is finished (see loadGenerator.post).
func (p *promoter) run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for promote := true; ; promote = !promote {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var err error
		if promote {
			err = p.promote(context.WithoutCancel(ctx))
		} else {
			err = p.post(context.WithoutCancel(ctx), "rollback", `{"reason":"soak"}`)
		}
		p.record(promote, err)
	}
}

func (p *promoter) record(promote bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
		p.res.failed++
		p.res.failures = appendFailure(p.res.failures, err.Error())
	case promote:
		p.res.promotions++
	default:
		p.res.rollbacks++
	}
}

// promote makes the version that is not champion champion.
func (p *promoter) promote(ctx context.Context) error {
	champion, err := p.champion(ctx)
	if err != nil {
		return err
	}
	target := p.versions[0]
	if champion == target {
		target = p.versions[1]
	}
	return p.post(ctx, "promote", fmt.Sprintf(`{"version":%d,"reason":"soak"}`, target))
}

// champion reads the ticker's champion from GET /models/{ticker}.
func (p *promoter) champion(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.api+"/models/"+p.ticker, nil)
	if err != nil {
		return 0, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET /models/%s: %w", p.ticker, err)
	}
	defer resp.Body.Close()
	var m struct {
		Aliases map[string]int `json:"aliases"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /models/%s: HTTP %d (%v)", p.ticker, resp.StatusCode, err)
	}
	return m.Aliases["champion"], nil
}

// post sends POST /models/{ticker}/{action} with the token; anything but
// 200 is an error.
func (p *promoter) post(ctx context.Context, action, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.api+"/models/"+p.ticker+"/"+action, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", action, resp.StatusCode, bytes.TrimSpace(raw))
	}
	return nil
}

func (p *promoter) result() promoterResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.res
}
