package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

// BenchmarkPredictConcurrent is JSON /predict of one 50-Open window
// through the whole handler (no network) from 16 goroutines at once, as
// wrk -c16 sends them, on the served shape (2×LSTM(64)), for each bound of
// the batch wait. It reports the windows per forward pass. Profile it to
// see what dominates under load:
//
//	go test -run '^$' -bench PredictConcurrent -cpuprofile cpu.out ./api
//	go tool pprof -top cpu.out
func BenchmarkPredictConcurrent(b *testing.B) {
	store, err := blob.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cfg := arch.Config{Features: 1, Lookback: 50, Layers: 2, Units: 64, Seed: 1}
	m, err := model.New(cfg, gotch.CPU)
	if err != nil {
		b.Fatal(err)
	}
	weights, err := m.MarshalWeights()
	m.Close()
	if err != nil {
		b.Fatal(err)
	}
	t := prep.Transform{
		Spec:     prep.TransformSpec{Target: prep.TargetPrice, Scaler: prep.ScalerMinMax, Features: []string{"open"}},
		Features: []prep.Affine{{Name: "open", Shift: 10, Scale: 10, Min: 10, Max: 20}},
		Label:    prep.Affine{Name: "label", Shift: 10, Scale: 10, Min: 10, Max: 20},
		Horizon:  1,
	}
	js := func(v any) []byte {
		out, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	reg := registry.Registry{Store: store}
	ctx := context.Background()
	v, err := reg.Register(ctx, "NFLX", registry.Version{RunID: "bench"}, map[string][]byte{
		registry.FileWeights: weights,
		registry.FileScaler:  js(t),
		registry.FileConfig:  js(model.ArtifactConfig{Model: cfg, Lookback: 50, Horizon: 1}),
		registry.FileMetrics: []byte(`{}`),
		registry.FileLineage: []byte(`{}`),
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := reg.SetAlias(ctx, "NFLX", registry.Champion, v.Version, "bench", false, "bench"); err != nil {
		b.Fatal(err)
	}
	open := make([]float64, 50)
	for i := range open {
		open[i] = 15 + 4*math.Sin(float64(i)/5)
	}
	body := string(js(map[string]any{"ticker": "NFLX", "open": open}))
	for _, wait := range []time.Duration{0, 200 * time.Microsecond, time.Millisecond} {
		b.Run("wait="+wait.String(), func(b *testing.B) {
			srv := New(store, gotch.CPU, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			defer srv.Close()
			srv.models.batchWait = wait
			h := srv.Handler()
			post := func() {
				req := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			post() // loads the model
			lm, _, ok := srv.models.current("NFLX")
			if !ok {
				b.Fatal("no model loaded")
			}
			passes, windows := lm.batch.batches.Load(), lm.batch.windows.Load()
			cpu := cpuTime()
			b.ReportAllocs()
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0))) // 16 clients in all
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					post()
				}
			})
			b.StopTimer()
			// CPU time per request is steadier than wall time on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
			if n := lm.batch.batches.Load() - passes; n > 0 {
				b.ReportMetric(float64(lm.batch.windows.Load()-windows)/float64(n), "windows/pass")
			}
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
