package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
)

// predictPoller asks /predict every interval until stopped and counts the
// answers by status, and those served while the registry was unavailable.
type predictPoller struct {
	mu       sync.Mutex
	byStatus map[int]int
	fromMem  int
	stop     chan struct{}
	done     chan struct{}
}

func pollPredict(t *testing.T, url string, opens []float64, every time.Duration) *predictPoller {
	p := &predictPoller{byStatus: map[int]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(every):
			}
			status, answer := postPredict(t, url, opens)
			p.mu.Lock()
			p.byStatus[status]++
			if answer.RegistryUnavailable {
				p.fromMem++
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *predictPoller) end() (map[int]int, int) {
	close(p.stop)
	<-p.done
	return p.byStatus, p.fromMem
}

// A 90 s outage of the store in the middle of a training: the run waits it
// out (its attempts fail with ErrUnavailable after the store deadline and
// are retried with backoff, heartbeating meanwhile) and completes once the
// store is back; /predict answers 200 for an already loaded model
// throughout, and store-backed routes answer 503 rather than hang.
func TestNinetySecondStoreOutageMidTraining(t *testing.T) {
	t.Parallel()
	raw := newLocalStore(t)
	outage := blobtest.NewOutage(raw)
	store := blob.WithDeadlines(outage, 5*time.Second)
	s := startStackOn(t, devserver.Start(t), store)
	path := sharedtest.Path(t, "single", "NFLX.csv")
	key := s.upload(t, path)
	s.trainAs(t, "outage-base", pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key, Model: pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 1},
		ForcePromote: true}) // a champion, so that a model is loaded and answers

	srv := api.New(store, gotch.CPU)
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	opens := readOpens(t, path)
	if status, _ := postPredict(t, hs.URL, opens); status != http.StatusOK {
		t.Fatalf("/predict before the outage: %d", status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key, Model: pipeline.ModelParams{Units: 32, Epochs: 5, Patience: 5, Seed: 2}}
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "outage-train", TaskQueue: s.queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	at := waitForCheckpointUnder(t, raw, "runs/outage-train/", 1, 5*time.Minute)
	poller := pollPredict(t, hs.URL, opens, 500*time.Millisecond)
	start := time.Now()
	outage.DownFor(blobtest.Hang, 90*time.Second)
	t.Logf("store down for 90 s after the epoch-%d checkpoint", at)

	time.Sleep(10 * time.Second)
	resp, err := http.Get(hs.URL + "/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("/models during the outage: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	var res pipeline.TrainingResult
	err = run.Get(ctx, &res)
	byStatus, fromMem := poller.end()
	if err != nil {
		t.Fatalf("training failed across the outage: %v", err)
	}
	t.Logf("run completed %v after the outage began: v%d, train attempt %d resumed from epoch %d; /predict answers %v (%d from the loaded model while the registry was down)",
		time.Since(start).Round(time.Second), res.ModelVersion, res.Training.Attempt, res.Training.ResumedFrom, byStatus, fromMem)
	if res.ModelVersion != 2 || res.Training.Attempt < 2 || len(res.Curve) != 5 {
		t.Fatalf("result v%d, attempt %d, %d epochs: want v2 trained over several attempts, 5 epochs", res.ModelVersion, res.Training.Attempt, len(res.Curve))
	}
	if time.Since(start) < 90*time.Second {
		t.Fatalf("the run finished %v after a 90 s outage began: the outage did not hold", time.Since(start))
	}
	for status, n := range byStatus {
		if status != http.StatusOK {
			t.Errorf("/predict answered %d %d times during the outage, want 200 throughout", status, n)
		}
	}
	if fromMem == 0 || outage.Hits() == 0 {
		t.Errorf("the outage reached neither /predict (%d answers from memory) nor the store (%d hits)", fromMem, outage.Hits())
	}
}
