package main

import (
	"flag"
	"runtime"
	"testing"
)

func TestCapacityDefaultsNeverOversubscribe(t *testing.T) {
	c, err := capacityFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.trainSlots != 1 || c.threadsPerTraining() != runtime.NumCPU() {
		t.Fatalf("default: %d slots × %d threads, want 1 × %d", c.trainSlots, c.threadsPerTraining(), runtime.NumCPU())
	}
	for slots := 1; slots <= 2*runtime.NumCPU()+1; slots++ {
		c := capacity{trainSlots: slots}
		if n := c.threadsPerTraining(); n < 1 || (slots <= runtime.NumCPU() && slots*n > runtime.NumCPU()) {
			t.Errorf("%d slots: %d threads each on %d cores", slots, n, runtime.NumCPU())
		}
	}
}

func TestCapacityEnvAndFlags(t *testing.T) {
	env := map[string]string{"FINSIGHT_TRAIN_SLOTS": "3", "FINSIGHT_THREADS": "2"}
	c, err := capacityFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.trainSlots != 3 || c.threadsPerTraining() != 2 {
		t.Fatalf("from env: %+v", c)
	}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	c.flags(fs)
	if err := fs.Parse([]string{"--train-slots", "2"}); err != nil {
		t.Fatal(err)
	}
	if c.trainSlots != 2 || c.threads != 2 {
		t.Fatalf("flag over env: %+v", c)
	}
	if err := (capacity{trainSlots: 0}).check(); err == nil {
		t.Fatal("0 train slots accepted")
	}
	if err := (capacity{trainSlots: 1, threads: -1}).check(); err == nil {
		t.Fatal("negative threads accepted")
	}
	if _, err := capacityFromEnv(func(k string) string { return map[string]string{"FINSIGHT_THREADS": "x"}[k] }); err == nil {
		t.Fatal("FINSIGHT_THREADS=x accepted")
	}
}
