//go:build bench

package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// TestBenchFleet is `make bench-fleet`: the data chain (ingest → split →
// validate → clean → scale → window) over the 505 files of
// ../shared/data/sp500_5yr, once as a prepare fleet through a Temporal dev
// server (FleetPipeline, groups of tickers per activity, an in-process
// worker), once in-process (the same activity, PrepareTickers, called
// directly on the same groups with the same parallelism), each on a fresh
// store. It prints a table and, last, ratio=<fleet s ÷ in-process s>.
func TestBenchFleet(t *testing.T) {
	srv := devserver.Start(t)
	parallel, group := 2, pipeline.DefaultFleetGroupSize

	fleetStore := newLocalStore(t)
	items := sp500Items(t, fleetStore, 505)
	s := startStackOn(t, srv, fleetStore)
	in := pipeline.FleetInput{Kind: pipeline.FleetPrepare, Items: items, Parallel: parallel, GroupSize: group}
	start := time.Now()
	run, err := s.c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "bench-fleet", TaskQueue: s.queue}, pipeline.FleetWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	var res pipeline.FleetResult
	if err := run.Get(context.Background(), &res); err != nil {
		t.Fatalf("fleet: %v", err)
	}
	fleetS := time.Since(start).Seconds()
	history := largestHistory(t, s.c, "bench-fleet")

	localStore := newLocalStore(t)
	localItems := sp500Items(t, localStore, 505)
	local := inProcess(t, localStore, localItems, steps.PrepareSpecOf(pipeline.TrainingInput{}), parallel, group)

	fmt.Printf("\n%-28s %10s %10s %10s %8s\n", "mode", "seconds", "tickers", "failed", "groups")
	fmt.Printf("%-28s %10.2f %10d %10d %8d\n", "fleet (dev server)", fleetS, res.Totals.Tickers, res.Totals.Failed, (len(items)+group-1)/group)
	fmt.Printf("%-28s %10.2f %10d %10d %8d\n", "in-process (same activity)", local.seconds, local.tickers, local.failed, (len(items)+group-1)/group)
	fmt.Printf("fleet workflow: %d run(s), largest history %d events; parallel %d, %d tickers per group\n", res.Runs, history, parallel, group)
	for _, reason := range slices.Sorted(maps.Keys(res.Totals.Reasons)) {
		fmt.Printf("failed: %d × %s\n", res.Totals.Reasons[reason], reason)
	}
	fmt.Printf("ratio=%.2f\n", fleetS/local.seconds)
	if res.Totals.Tickers != 505 || local.tickers != 505 || res.Totals.Failed != local.failed {
		t.Fatalf("the two passes disagree: fleet %+v, in-process %+v", res.Totals, local)
	}
}

type localPass struct {
	seconds         float64
	tickers, failed int
}

// inProcess runs PrepareTickers on the groups in an activity test
// environment (no server), parallel at a time.
func inProcess(t *testing.T, store blob.Store, items []pipeline.FleetItem, spec steps.PrepareSpec, parallel, group int) localPass {
	t.Helper()
	acts := activities.New(store, gotch.CPU)
	var groups [][]pipeline.FleetItem
	for i := 0; i < len(items); i += group {
		groups = append(groups, items[i:min(i+group, len(items))])
	}
	var (
		mu   sync.Mutex
		pass localPass
		wg   sync.WaitGroup
		next = make(chan []pipeline.FleetItem)
	)
	start := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestActivityEnvironment()
			env.RegisterActivityWithOptions(acts.PrepareTickers, activity.RegisterOptions{Name: steps.PrepareTickers})
			for g := range next {
				v, err := env.ExecuteActivity(steps.PrepareTickers, steps.PrepareInput{Items: g, Spec: spec})
				var res steps.PrepareResult
				if err == nil {
					err = v.Get(&res)
				}
				mu.Lock()
				if err != nil {
					t.Errorf("in-process group: %v", err)
				}
				for _, o := range res.Outcomes {
					pass.tickers++
					if o.Status == pipeline.FleetFailed {
						pass.failed++
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, g := range groups {
		next <- g
	}
	close(next)
	wg.Wait()
	pass.seconds = time.Since(start).Seconds()
	return pass
}
