package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad flags, and a ticker without a model when no CSV is given, are
// refused with a message naming the flag, before any workflow starts (the
// Temporal address of offlineEnv answers nothing) and without uploading.
func TestBacktestRejectsBadFlagsBeforeStarting(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"level above 1", []string{"--ticker", "NFLX", "--levels", "0.8,1.2"}, `--levels: "1.2"`},
		{"mode", []string{"--ticker", "NFLX", "--mode", "random"}, `mode "random"`},
		{"overlapping blocks", []string{"--ticker", "NFLX", "--fold-len", "50", "--step", "20"}, "blocks would overlap"},
		{"parallel", []string{"--ticker", "NFLX", "--parallel", "-1"}, "parallel must be at least 1"},
		{"ticker", []string{"--ticker", "../x"}, "--ticker"},
		{"no model, no csv", []string{"--ticker", "NFLX"}, "NFLX has no registered model whose data a backtest could use: give --csv FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv, store := offlineEnv(t)
			code, out, errOut := runStarter(t, getenv, append([]string{"backtest"}, tc.args...)...)
			if code != 1 || out != "" || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 saying %q", code, out, errOut, tc.want)
			}
			if entries, _ := os.ReadDir(filepath.Join(store, "uploads")); len(entries) > 0 {
				t.Errorf("uploaded %d files for a refused backtest", len(entries))
			}
		})
	}
}
