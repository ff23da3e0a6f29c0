// Command benchtrain measures LSTM training throughput and single-window
// inference latency on gotch, for `make bench-train`, which runs the same
// shape in PyTorch (torch_ref.py) and prints the ratio.
//
// It prints one line per measurement, "name=value", for the Makefile to
// collect.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

func main() {
	layers := flag.Int("layers", 2, "LSTM layers")
	units := flag.Int("units", 64, "LSTM units")
	seq := flag.Int("seq", 50, "sequence length")
	batch := flag.Int("batch", 64, "batch size")
	threads := flag.Int("threads", 1, "LibTorch intra-op threads")
	batches := flag.Int("batches", 30, "timed training batches")
	device := flag.String("device", "cpu", "cpu or cuda")
	memCSV := flag.String("memory-csv", "", "instead: train on this price CSV's training windows and print RSS every 5 epochs")
	epochs := flag.Int("epochs", 45, "epochs of the -memory-csv run")
	flag.Parse()
	if *memCSV != "" {
		if err := memoryRun(*memCSV, *epochs, *threads); err != nil {
			fmt.Fprintln(os.Stderr, "benchtrain:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*layers, *units, *seq, *batch, *threads, *batches, *device); err != nil {
		fmt.Fprintln(os.Stderr, "benchtrain:", err)
		os.Exit(1)
	}
}

func run(layers, units, seq, batch, threads, batches int, deviceName string) error {
	model.SetThreads(threads)
	dev, err := model.ParseDevice(deviceName)
	if err != nil {
		return err
	}
	cfg := arch.Config{Features: 1, Lookback: seq, Layers: layers, Units: units, Seed: 1}
	m, err := model.New(cfg, dev)
	if err != nil {
		return err
	}
	defer m.Close()
	n := batch * batches
	d := model.Dataset{X: make([]float32, n*seq), Y: make([]float32, n)}
	for i := range d.X {
		d.X[i] = float32(math.Sin(float64(i) * 0.01))
	}
	for i := range d.Y {
		d.Y[i] = float32(math.Cos(float64(i) * 0.01))
	}
	// One untimed epoch warms up allocators and kernels.
	warm := model.Dataset{X: d.X[:batch*2*seq], Y: d.Y[:batch*2]}
	p := model.TrainParams{Epochs: 1, BatchSize: batch, LearningRate: 1e-3}
	if _, err := m.Fit(context.Background(), warm, model.Dataset{}, model.FitOptions{TrainParams: p}); err != nil {
		return err
	}
	start := time.Now()
	if _, err := m.Fit(context.Background(), d, model.Dataset{}, model.FitOptions{TrainParams: p}); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	lat, err := inferenceLatency(m, d.X[:seq], 200)
	if err != nil {
		return err
	}
	fmt.Printf("threads=%d\n", model.Threads())
	fmt.Printf("gotch_samples_per_s=%.1f\n", float64(n)/secs)
	fmt.Printf("gotch_infer_p50_ms=%.3f\n", lat[len(lat)/2])
	fmt.Printf("gotch_infer_p99_ms=%.3f\n", lat[len(lat)*99/100])
	return nil
}

// inferenceLatency times single-window predictions, sorted, in ms.
func inferenceLatency(m *model.LSTM, window []float32, n int) ([]float64, error) {
	out := make([]float64, 0, n)
	for i := 0; i < n+10; i++ {
		t := time.Now()
		if _, err := m.Predict(window); err != nil {
			return nil, err
		}
		if i >= 10 {
			out = append(out, float64(time.Since(t).Microseconds())/1000)
		}
	}
	sort.Float64s(out)
	return out, nil
}
