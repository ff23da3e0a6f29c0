package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/sharedtest"
)

// TestKillNine kills each process of the system with kill -9 at the
// moments that matter and checks that nothing is lost, doubled or left
// half-written:
//
//   - crash/temporal-server: the Temporal dev server (SQLite) in the middle
//     of a training, restarted on the same ports and database;
//   - crash/worker-at-<point>: the worker at each point between the
//     registry's writes (FINSIGHT_CRASH_AT), replaced by a worker without it;
//   - api-under-load: the API while it answers /predict and moves the
//     champion, restarted on the same address and store.
//
// The crash cases run side by side (most of their time is the 30 s a
// killed worker's step takes to time out); the worker cases share one dev
// server, the server case has its own.
func TestKillNine(t *testing.T) {
	apiBin := buildInBackgroundTo(t, "api/cmd/finsight-api") // while the worker builds and the workers train
	workerBin := buildBinary(t, "worker")
	srv := devserver.Start(t)
	csv := csvRows(t, sharedtest.Path(t, "single", "NFLX.csv"), "2014-01-01", "")
	// The promote:after-move case leaves NFLX v1 and v2 here for the API case.
	promoted := t.TempDir()
	t.Run("crash", func(t *testing.T) {
		t.Run("temporal-server", func(t *testing.T) {
			t.Parallel()
			killTemporalServerMidTraining(t, workerBin, csv)
		})
		for _, point := range []activities.CrashPoint{activities.CrashRegisterAfterFiles, activities.CrashRegisterAfterManifest, activities.CrashPromoteAfterMove} {
			t.Run("worker-at-"+string(point), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				if point == activities.CrashPromoteAfterMove {
					dir = promoted
				}
				killAtCrashPoint(t, srv, workerBin, point, csv, dir)
			})
		}
	})
	t.Run("api-under-load", func(t *testing.T) {
		bin, err := apiBin()
		if err != nil {
			t.Fatal(err)
		}
		killAPIUnderLoad(t, srv, bin, promoted)
	})
}

// killTemporalServerMidTraining kills the Temporal dev server (SQLite) with
// kill -9 in the middle of a training and starts it again on the same
// ports and database a few seconds later: the worker, never restarted,
// reconnects by itself, the run completes with one model version, and its
// record says completed.
func killTemporalServerMidTraining(t *testing.T, bin string, csv []byte) {
	srv := devserver.Start(t)
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	const queue, id = "server-crash", "server-crash-nflx"
	worker := startProc(t, bin, workerEnv(srv.Address, dir, queue)...)
	c := srv.Client(t)
	key := uploadBytes(t, store, csv)
	const epochs = 3
	in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key, Model: pipeline.ModelParams{Layers: 1, Units: 32, Epochs: epochs}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}

	at := waitForCheckpoint(t, store, 1, 5*time.Minute)
	srv.KillAndRestart(t, 3*time.Second)
	t.Logf("killed the Temporal server (kill -9) after the epoch-%d checkpoint of %d, restarted it 3 s later", at, epochs)

	var res pipeline.TrainingResult
	if err := run.Get(ctx, &res); err != nil {
		worker.kill()
		t.Fatalf("the run failed across the server crash: %v\nworker log:\n%s", err, worker.log)
	}
	select {
	case <-worker.exited:
		t.Fatalf("the worker exited instead of reconnecting:\n%s", worker.log)
	default:
	}
	t.Logf("run completed: v%d, train attempt %d (resumed from epoch %d)", res.ModelVersion, res.Training.Attempt, res.Training.ResumedFrom)
	if res.ModelVersion != 1 || len(res.Curve) != epochs {
		t.Errorf("result v%d with %d epochs, want v1 with %d", res.ModelVersion, len(res.Curve), epochs)
	}
	assertRegistryConsistent(t, store, "NFLX", id)
	assertRunCompleted(t, store, id)
	worker.stop(t, time.Minute) // as a deploy stops it: no write of its own cut short
	assertNoPartialObjects(t, store, dir)
}

// killAtCrashPoint runs a training on a worker told to crash at point,
// checks it died there, finishes the run on a second worker and checks the
// registry. For promote:after-move, the second worker then trains v2 (a
// forced champion) for the API case. The store is the folder dir.
func killAtCrashPoint(t *testing.T, srv *devserver.Server, bin string, point activities.CrashPoint, csv []byte, dir string) {
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ReplaceAll(string(point), ":", "-")
	queue, id := "crash-"+name, "crash-"+name+"-nflx"
	env := workerEnv(srv.Address, dir, queue)
	first := startProc(t, bin, append(slices.Clone(env), "FINSIGHT_CRASH_AT="+string(point))...)
	c := srv.Client(t)
	key := uploadBytes(t, store, csv)
	in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key, Model: pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 1}, ForcePromote: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	first.waitKilled(t, 5*time.Minute)
	if !strings.Contains(first.log.String(), "crash point "+string(point)+" reached") {
		t.Fatalf("the worker died, but not at %s:\n%s", point, first.log)
	}
	assertStateAtCrash(t, store, point, id)

	second := startProc(t, bin, env...)
	var res pipeline.TrainingResult
	if err := run.Get(ctx, &res); err != nil {
		second.kill()
		t.Fatalf("the run failed after the crash at %s: %v\nsecond worker log:\n%s", point, err, second.log)
	}
	if res.ModelVersion != 1 || !res.Promotion.Promoted {
		t.Errorf("result v%d promoted %v, want v1 champion (forced)", res.ModelVersion, res.Promotion.Promoted)
	}
	m := assertRegistryConsistent(t, store, "NFLX", id)
	if len(m.Versions) != 1 || m.Aliases[registry.Champion] != 1 {
		t.Errorf("registry after the crash at %s: versions %+v, aliases %v; want v1 alone, champion", point, m.Versions, m.Aliases)
	}
	assertRunCompleted(t, store, id)
	if point != activities.CrashPromoteAfterMove {
		// Stopped as a deploy stops it, not killed: the run's notification
		// may still be writing its statistics, and a kill would leave that
		// write's temp file.
		second.stop(t, time.Minute)
		assertNoPartialObjects(t, store, dir)
		return
	}
	// A next run numbers its version after the crashed run's, and gives the
	// API case a second model to move the champion to.
	in.Model.Seed, in.CSVKey = 7, key
	next, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id + "-next", TaskQueue: queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.Get(ctx, &res); err != nil {
		t.Fatalf("the run after the crashed one failed: %v", err)
	}
	if res.ModelVersion != 2 {
		t.Fatalf("the run after the crashed one registered v%d, want v2", res.ModelVersion)
	}
	assertRegistryConsistent(t, store, "NFLX", id+"-next")
	second.stop(t, time.Minute)
	assertNoPartialObjects(t, store, dir)
}

// assertStateAtCrash checks that the crash landed where it was told to:
// after the files, the manifest does not list them; after the manifest, it
// does but no alias moved; after the move, the move is recorded.
func assertStateAtCrash(t *testing.T, store blob.Store, point activities.CrashPoint, runID string) {
	t.Helper()
	ctx := context.Background()
	m, err := registry.Registry{Store: store}.Manifest(ctx, "NFLX")
	if err != nil && point != activities.CrashRegisterAfterFiles {
		t.Fatalf("manifest at the crash: %v", err)
	}
	listed := slices.ContainsFunc(m.Versions, func(v registry.Version) bool { return v.RunID == runID })
	moved := slices.ContainsFunc(m.History, func(h registry.AliasMove) bool { return h.RunID == runID })
	switch point {
	case activities.CrashRegisterAfterFiles:
		ok, err := store.Exists(ctx, registry.Dir("NFLX", 1)+"/"+registry.FileLineage)
		if err != nil || !ok || listed {
			t.Fatalf("at %s: v1's files written %v (%v), listed %v; want written, not listed", point, ok, err, listed)
		}
	case activities.CrashRegisterAfterManifest:
		if !listed || moved {
			t.Fatalf("at %s: listed %v, an alias moved %v; want listed, none moved", point, listed, moved)
		}
	case activities.CrashPromoteAfterMove:
		if !moved {
			t.Fatalf("at %s: no alias move by %s recorded: %+v", point, runID, m.History)
		}
	}
}
