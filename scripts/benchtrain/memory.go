package main

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/memstat"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

// memoryRun trains the default model on a ticker's training windows for
// epochs epochs, with the validation loss after each as in the pipeline,
// and prints the process's resident memory every 5 epochs (and after the
// first), for `make bench-memory`: a leak of tensors shows as RSS growing
// with the epoch count.
func memoryRun(csvPath string, epochs, threads int) error {
	model.SetThreads(threads)
	train, val, err := windows(csvPath)
	if err != nil {
		return err
	}
	cfg := arch.Config{Features: train.Features, Lookback: train.Lookback, Layers: 2, Units: 64, Seed: 1}
	m, err := model.New(cfg, gotch.CPU)
	if err != nil {
		return err
	}
	defer m.Close()
	d := model.Dataset{X: train.X, Y: train.Y}
	v := model.Dataset{X: val.X, Y: val.Y}
	fmt.Printf("windows train=%d val=%d epochs=%d\n", d.Len(), v.Len(), epochs)
	p := model.TrainParams{Epochs: epochs, BatchSize: 64, LearningRate: 1e-3}
	_, err = m.Fit(context.Background(), d, v, model.FitOptions{TrainParams: p,
		OnEpoch: func(c *model.Checkpoint) error {
			if c.Epoch == 1 || c.Epoch%5 == 0 {
				rssKB, err := memstat.ResidentKB()
				if err != nil {
					return err
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				last := c.Curve[len(c.Curve)-1]
				fmt.Printf("epoch=%d rss_mb=%.0f go_heap_mb=%.0f train_loss=%.5f val_loss=%.5f\n",
					c.Epoch, float64(rssKB)/1024, float64(ms.HeapInuse)/(1<<20), last.TrainLoss, last.ValLoss)
			}
			return nil
		}})
	return err
}

// windows reads a price CSV and makes the training and validation splits'
// windows with the pipeline's defaults (forward fill, 70/10/20, log-return
// target, lookback 50).
func windows(csvPath string) (train, val *frame.Windows, err error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	bars, err := frame.ParseCSV(f, "BENCH")
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", csvPath, err)
	}
	bars, _, _ = prep.ForwardFill(bars, nil)
	trainBars, valBars, _, err := prep.Split(bars, prep.DefaultFractions)
	if err != nil {
		return nil, nil, fmt.Errorf("split: %w", err)
	}
	t, err := prep.FitTransform(prep.DefaultTransformSpec(), trainBars, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("fit transform: %w", err)
	}
	if train, err = prep.MakeWindows(trainBars, t, 50); err != nil {
		return nil, nil, fmt.Errorf("train windows: %w", err)
	}
	if val, err = prep.MakeWindows(valBars, t, 50); err != nil {
		return nil, nil, fmt.Errorf("validation windows: %w", err)
	}
	return train, val, nil
}
