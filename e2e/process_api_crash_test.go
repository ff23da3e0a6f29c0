package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/sharedtest"
)

const crashAPIToken = "crash-test-token"

// apiLoad is what the load on the API saw before the kill: every /predict
// and promotion answer up to the first refused connection.
type apiLoad struct {
	mu         sync.Mutex
	answers    []predictAnswer
	promotions int
	bad        []string // unexpected answers (status, decode errors)
}

func (l *apiLoad) add(a predictAnswer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers = append(l.answers, a)
}

func (l *apiLoad) promoted() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.promotions++
}

func (l *apiLoad) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bad = append(l.bad, fmt.Sprintf(format, args...))
}

func (l *apiLoad) counts() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.answers), l.promotions
}

// killAPIUnderLoad starts the API binary bin on the store folder dir (NFLX v1
// and v2), loads it with /predict from three clients while a fourth moves
// the champion between v1 and v2 through the API, kills it with kill -9,
// restarts it on the same address and store, and checks it serves the
// champion the registry holds with that version's prediction, that the
// registry can still be written, and that no object is partial.
func killAPIUnderLoad(t *testing.T, srv *devserver.Server, bin, dir string) {
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := (registry.Registry{Store: store}).Manifest(context.Background(), "NFLX"); err != nil || len(m.Versions) != 2 {
		t.Fatalf("the store has no NFLX v1 and v2 (%v): this case runs on the one crash/worker-at-promote:after-move leaves; run all of TestKillNine", err)
	}
	addr := freeAddr(t)
	url := "http://" + addr
	env := []string{"FINSIGHT_STORE=" + dir, "FINSIGHT_API_ADDR=" + addr, "FINSIGHT_DEVICE=cpu", "FINSIGHT_API_TOKENS=" + crashAPIToken,
		"TEMPORAL_ADDRESS=" + srv.Address, "FINSIGHT_TASK_QUEUE=api-crash",
		"FINSIGHT_MANIFEST_REFRESH=0"} // every /predict checks the manifest: each promotion is served at once
	first := startProc(t, bin, env...)
	waitHealthy(t, url, first, time.Minute)
	opens := readOpens(t, sharedtest.Path(t, "single", "NFLX.csv"))
	want := map[int]float64{}
	for _, v := range []int{1, 2} {
		status, a := postPredictQuery(t, url, fmt.Sprintf("?version=%d", v), opens)
		if status != http.StatusOK || a.ModelVersion != v {
			t.Fatalf("/predict?version=%d: status %d, %+v", v, status, a)
		}
		want[v] = a.Prediction
	}
	if want[1] == want[2] {
		t.Fatalf("v1 and v2 predict the same (%v): the test cannot tell them apart", want[1])
	}

	load := &apiLoad{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 30 * time.Second}
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); predictUntilRefused(hc, url, opens, load, stop) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); promoteUntilRefused(hc, url, load, stop) }()
	deadline := time.Now().Add(2 * time.Minute)
	for n, p := load.counts(); n < 60 || p < 20; n, p = load.counts() {
		if time.Now().After(deadline) {
			t.Fatalf("the load got %d /predict answers and %d promotions in 2 minutes, want 60 and 20", n, p)
		}
		time.Sleep(20 * time.Millisecond)
	}
	first.kill() // SIGKILL, mid-load
	close(stop)
	wg.Wait()
	n, p := load.counts()
	t.Logf("killed the API (kill -9) after %d /predict answers and %d promotions", n, p)
	for _, b := range load.bad {
		t.Errorf("under load before the kill: %s", b)
	}
	for _, a := range load.answers {
		if w, ok := want[a.ModelVersion]; !ok || a.Prediction != w {
			t.Errorf("under load: v%d predicted %v, want %v", a.ModelVersion, a.Prediction, w)
		}
	}

	m, err := registry.Registry{Store: store}.Manifest(context.Background(), "NFLX")
	if err != nil {
		t.Fatalf("manifest after the kill: %v", err)
	}
	champ := m.Aliases[registry.Champion]
	second := startProc(t, bin, env...)
	waitHealthy(t, url, second, time.Minute)
	status, a := postPredict(t, url, opens)
	if status != http.StatusOK || a.ModelVersion != champ || a.Prediction != want[champ] {
		t.Fatalf("/predict after the restart: status %d, v%d predicts %v; want 200, the registry's champion v%d predicting %v",
			status, a.ModelVersion, a.Prediction, champ, want[champ])
	}
	assertRegistryConsistent(t, store, "NFLX", "crash-promote-after-move-nflx")
	assertObjectsDecode(t, store)
	// A kill in the middle of a manifest write (likely: the fsyncs are
	// most of a promotion's time) left that write's temp file, which the
	// restarted API's store swept when it opened (no live writer held it).
	assertNoTempFiles(t, dir)

	// The kill left the manifest writable (no lock held by the dead process).
	other := 3 - champ
	if status, err := promote(hc, url, other); err != nil || status != http.StatusOK {
		t.Fatalf("promote v%d after the restart: status %d, %v", other, status, err)
	}
	if status, a := postPredict(t, url, opens); status != http.StatusOK || a.ModelVersion != other || a.Prediction != want[other] {
		t.Fatalf("/predict after promoting v%d: status %d, %+v", other, status, a)
	}
}

// predictUntilRefused asks /predict until stop, or until the connection
// fails (the API was killed), and records each answer.
func predictUntilRefused(hc *http.Client, url string, opens []float64, load *apiLoad, stop <-chan struct{}) {
	body, err := json.Marshal(map[string]any{"ticker": "NFLX", "open": opens[len(opens)-50:]})
	if err != nil {
		load.fail("encode: %v", err)
		return
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		resp, err := hc.Post(url+"/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			return // killed
		}
		var a predictAnswer
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		switch {
		case err != nil:
			return // the kill cut the answer short
		case resp.StatusCode != http.StatusOK:
			load.fail("/predict: status %d, %+v", resp.StatusCode, a)
		default:
			load.add(a)
		}
	}
}

// promoteUntilRefused makes v2 and v1 champion in turn through the API
// until stop or until the connection fails.
func promoteUntilRefused(hc *http.Client, url string, load *apiLoad, stop <-chan struct{}) {
	for v := 2; ; v = 3 - v {
		select {
		case <-stop:
			return
		default:
		}
		status, err := promote(hc, url, v)
		if err != nil {
			return // killed
		}
		if status != http.StatusOK {
			load.fail("promote v%d: status %d", v, status)
			continue
		}
		load.promoted()
	}
}

// promote asks the API to make version the NFLX champion.
func promote(hc *http.Client, url string, version int) (int, error) {
	body, err := json.Marshal(map[string]any{"version": version, "reason": "crash test"})
	if err != nil {
		return 0, fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, url+"/models/NFLX/promote", bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+crashAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("promote v%d: %w", version, err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return resp.StatusCode, fmt.Errorf("promote v%d: decode: %w", version, err)
	}
	return resp.StatusCode, nil
}
