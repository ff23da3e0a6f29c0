package main

import (
	"flag"
	"io"
	"testing"

	"github.com/finsight/finsight/activities"
)

func TestCrashAtFromEnvAndFlag(t *testing.T) {
	env := map[string]string{"FINSIGHT_CRASH_AT": "register:after-files"}
	p, err := crashAtFromEnv(func(k string) string { return env[k] })
	if err != nil || p != activities.CrashRegisterAfterFiles {
		t.Fatalf("from env: %q, %v", p, err)
	}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	crashFlag(&p, fs)
	if err := fs.Parse([]string{"--crash-at", "promote:after-move"}); err != nil || p != activities.CrashPromoteAfterMove {
		t.Fatalf("--crash-at over the env: %q, %v", p, err)
	}
	if err := fs.Parse([]string{"--crash-at", "nowhere"}); err == nil {
		t.Fatal("--crash-at nowhere was accepted")
	}
	none, err := crashAtFromEnv(func(string) string { return "" })
	if err != nil || none != "" {
		t.Fatalf("unset: %q, %v; want none", none, err)
	}
	env["FINSIGHT_CRASH_AT"] = "promote"
	if _, err := crashAtFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Fatal("FINSIGHT_CRASH_AT=promote was accepted")
	}
}
