package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
)

// span is when one worker ran one train-queue step of a run, as its usage
// stat recorded it.
type span struct {
	run, activity, worker string
	start, end            time.Time
	scheduled             time.Time // Train: when the workflow began its train step
}

// TestTrainSlotsLimitTrainingsPerWorker starts one worker process with
// --train-slots 1 and three TrainingPipeline runs at once: their train
// steps (and the evaluations that share the train queue) run one after the
// other, never two at once in that worker, as the run records' step times
// and workers show. With --train-slots 2 the same runs do train side by side.
func TestTrainSlotsLimitTrainingsPerWorker(t *testing.T) {
	bin := buildWorker(t)
	srv := devserver.Start(t)
	csv := lastRows(t, sharedtest.Path(t, "single", "NFLX.csv"), 600)

	t.Run("one slot", func(t *testing.T) {
		spans, pid := runSlotted(t, bin, srv, csv, 1)
		if a, b, ok := overlap(spans); ok {
			t.Fatalf("with --train-slots 1, worker %s ran two train-queue steps at once:\n  %s\n  %s", a.worker, a, b)
		}
		// The limit was put to the test: a training was asked for while
		// another ran, and waited for it.
		waited := false
		for _, a := range spans {
			for _, b := range spans {
				if a.activity == "Train" && b.activity == "Train" && a.scheduled.Before(b.end) && !a.start.Before(b.end) && b.start.Before(a.start) {
					t.Logf("%s waited %v for the slot (%s held it)", a.run, a.start.Sub(a.scheduled).Round(time.Millisecond), b.run)
					waited = true
					break
				}
			}
		}
		if !waited {
			t.Fatalf("no training was scheduled while another ran: the runs did not contend for the slot")
		}
		for _, s := range spans {
			if !strings.HasPrefix(s.worker, strconv.Itoa(pid)+"@") {
				t.Fatalf("%s: worker %q, want the worker process %d (pid@host)", s, s.worker, pid)
			}
		}
	})
	t.Run("two slots", func(t *testing.T) {
		spans, _ := runSlotted(t, bin, srv, csv, 2)
		var trains []span
		for _, s := range spans {
			if s.activity == "Train" {
				trains = append(trains, s)
			}
		}
		if _, _, ok := overlap(trains); !ok {
			t.Fatalf("with --train-slots 2, no two of the %d trainings ran at once: %v", len(trains), trains)
		}
	})
}

func (s span) String() string {
	str := fmt.Sprintf("%s %s on %s %s–%s (%v)", s.run, s.activity, s.worker,
		s.start.Format("15:04:05.000"), s.end.Format("15:04:05.000"), s.end.Sub(s.start).Round(time.Millisecond))
	if s.activity == "Train" {
		str += fmt.Sprintf(", step began %s", s.scheduled.Format("15:04:05.000"))
	}
	return str
}

// runSlotted runs three small trainings at once on one worker process
// started with --train-slots slots (one LibTorch thread each), and returns
// the train-queue steps they ran, from their run records, and the worker's
// pid.
func runSlotted(t *testing.T, bin string, srv *devserver.Server, csv []byte, slots int) ([]span, int) {
	t.Helper()
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	queue := fmt.Sprintf("slots-%d", slots)
	w := &workerProcess{cmd: exec.Command(bin, "--train-slots", strconv.Itoa(slots), "--threads", "1"), log: &bytes.Buffer{}}
	w.cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+srv.Address, "FINSIGHT_STORE="+dir, "FINSIGHT_TASK_QUEUE="+queue,
		"FINSIGHT_DEVICE=cpu", "FINSIGHT_METRICS_ADDR=")
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(func() { _ = w.cmd.Process.Kill(); _ = w.cmd.Wait() })
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	tickers := []string{"AAA", "BBB", "CCC"}
	ids := make([]string, len(tickers))
	var wg sync.WaitGroup
	errs := make([]error, len(tickers))
	for i, ticker := range tickers {
		key := "uploads/" + ticker + ".csv"
		if err := blob.PutBytes(ctx, store, key, csv); err != nil {
			t.Fatal(err)
		}
		ids[i] = fmt.Sprintf("%s-%s", queue, ticker)
		in := pipeline.TrainingInput{Ticker: ticker, CSVKey: key, Model: pipeline.ModelParams{Units: 8, Epochs: 8}}
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ids[i], TaskQueue: queue}, pipeline.TrainingWorkflow, in)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = run.Get(ctx, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s failed: %v\nworker log:\n%s", ids[i], err, w.log)
		}
	}

	var spans []span
	for _, id := range ids {
		rec, err := runs.Read(ctx, store, id)
		if err != nil {
			t.Fatal(err)
		}
		var train *runs.Step
		for i := range rec.Steps {
			if rec.Steps[i].Name == "train" {
				train = &rec.Steps[i]
			}
		}
		if train == nil || train.Worker == "" {
			t.Fatalf("%s: train step %+v names no worker", id, train)
		}
		stats, err := runs.ReadStats(ctx, store, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stats {
			if st.Activity != "Train" && st.Activity != "Evaluate" {
				continue // not on the train queue
			}
			if st.Activity == "Train" && st.Worker != train.Worker {
				t.Fatalf("%s: train step ran on %q, its stat says %q", id, train.Worker, st.Worker)
			}
			s := span{run: id, activity: st.Activity, worker: st.Worker, start: st.StartedAt,
				end: st.StartedAt.Add(time.Duration(st.WallMS) * time.Millisecond), scheduled: train.StartedAt}
			spans = append(spans, s)
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	for _, s := range spans {
		t.Logf("--train-slots %d: %s", slots, s)
	}
	if n := countActivity(spans, "Train"); n != len(ids) {
		t.Fatalf("%d Train steps recorded, want %d", n, len(ids))
	}
	return spans, w.cmd.Process.Pid
}

func countActivity(spans []span, activity string) int {
	n := 0
	for _, s := range spans {
		if s.activity == activity {
			n++
		}
	}
	return n
}

// overlap finds two spans of one worker that ran at the same time (spans
// sorted by start).
func overlap(spans []span) (span, span, bool) {
	for i := range spans {
		for j := i + 1; j < len(spans); j++ {
			a, b := spans[i], spans[j]
			if a.worker == b.worker && b.start.Before(a.end) {
				return a, b, true
			}
		}
	}
	return span{}, span{}, false
}
