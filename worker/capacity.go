package main

import (
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// capacity is how much of its machine a worker takes on: at most
// trainSlots steps of the train queue (trainings, trials, evaluations) at a
// time, each with threads LibTorch intra-op threads.
type capacity struct {
	trainSlots int
	threads    int // 0: threadsPerTraining's default
}

// capacityFromEnv reads FINSIGHT_TRAIN_SLOTS (default 1) and
// FINSIGHT_THREADS (default 0: cores / train slots).
func capacityFromEnv(getenv func(string) string) (capacity, error) {
	c := capacity{trainSlots: 1}
	for _, v := range []struct {
		env string
		to  *int
	}{{"FINSIGHT_TRAIN_SLOTS", &c.trainSlots}, {"FINSIGHT_THREADS", &c.threads}} {
		s := strings.TrimSpace(getenv(v.env))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return c, fmt.Errorf("%s: %w", v.env, err)
		}
		*v.to = n
	}
	return c, nil
}

// flags registers --train-slots and --threads over the environment's values.
func (c *capacity) flags(fs *flag.FlagSet) {
	fs.IntVar(&c.trainSlots, "train-slots", c.trainSlots,
		"trainings, trials and evaluations this worker runs at a time on the train queue (env FINSIGHT_TRAIN_SLOTS)")
	fs.IntVar(&c.threads, "threads", c.threads,
		"LibTorch threads of each training; 0: cores / train-slots, so slots × threads never exceed the cores (env FINSIGHT_THREADS)")
}

// check rejects a capacity no worker can run with.
func (c capacity) check() error {
	if c.trainSlots < 1 {
		return fmt.Errorf("--train-slots %d: want at least 1", c.trainSlots)
	}
	if c.threads < 0 {
		return fmt.Errorf("--threads %d: want 0 (cores / train-slots) or more", c.threads)
	}
	return nil
}

// threadsPerTraining is --threads, or by default max(1, cores / train
// slots): the trainings running at once share the cores, none more.
func (c capacity) threadsPerTraining() int {
	if c.threads > 0 {
		return c.threads
	}
	return max(1, runtime.NumCPU()/max(1, c.trainSlots))
}
