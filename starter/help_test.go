package main

import (
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/config"
)

var helpFlag = regexp.MustCompile(`(?m)^  -(\S+)`)

// Each command's --help prints its usage, an example and only the flags it
// uses: of the configuration's settings, just those it reads (promote, for
// one, lists neither the training device, nor the API address, nor the
// Yahoo URL).
func TestEachCommandsHelpListsOnlyItsFlags(t *testing.T) {
	dial := dialFlags()
	store := config.StoreFlags
	for _, tc := range []struct {
		args []string
		cfg  []string // the configuration's flags it lists
		own  []string // some of its own flags
	}{
		{[]string{"train"}, flagsOf(dial, queueFlag, store, uiFlag), []string{"ticker", "csv", "epochs", "wait", "json", "new-run"}},
		{[]string{"retrain"}, flagsOf(dial, queueFlag, store, uiFlag), []string{"ticker", "csv", "mode", "wait", "timeout"}},
		{[]string{"fleet"}, flagsOf(dial, queueFlag, store, uiFlag), []string{"sp500", "csv-dir", "tickers", "prefix", "kind", "parallel", "epochs", "wait"}},
		{[]string{"backtest"}, flagsOf(dial, queueFlag, store, uiFlag), []string{"ticker", "csv", "folds", "fold-len", "step", "mode", "epochs", "parallel", "levels", "wait"}},
		{[]string{"retrains"}, flagsOf(dial, uiFlag), []string{"ticker", "wait", "count"}},
		{[]string{"validate"}, flagsOf(dial, queueFlag, store), []string{"ticker", "csv", "source", "json"}},
		{[]string{"predict"}, nil, []string{"api", "ticker", "csv", "n", "version", "alias"}},
		{[]string{"synth"}, nil, []string{"out", "seed", "days"}},
		{[]string{"runs"}, store, []string{"ticker", "json"}},
		{[]string{"run"}, flagsOf(store, []string{"addr"}), []string{"json"}},
		{[]string{"models"}, store, []string{"ticker", "json"}},
		{[]string{"promote"}, store, []string{"reason"}},
		{[]string{"rollback"}, flagsOf(store, dial, queueFlag), []string{"reason"}},
		{[]string{"watch"}, flagsOf(dial, uiFlag), []string{"every"}},
		{[]string{"status"}, flagsOf(dial, uiFlag), []string{"json"}},
		{[]string{"cancel"}, dial, []string{"wait"}},
		{[]string{"schedule", "create"}, flagsOf(dial, queueFlag), []string{"ticker", "every", "mode", "update"}},
		{[]string{"schedule", "inbox"}, flagsOf(dial, queueFlag), []string{"every", "run-device"}},
		{[]string{"schedule", "list"}, dial, []string{"json"}},
		{[]string{"schedule", "delete"}, dial, []string{"ticker", "id"}},
		{[]string{"schedule", "trigger"}, dial, []string{"ticker", "id"}},
	} {
		name := strings.Join(tc.args, " ")
		t.Run(name, func(t *testing.T) {
			getenv, _ := offlineEnv(t)
			code, out, errOut := runStarter(t, getenv, append(tc.args, "--help")...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.HasPrefix(out, "usage: starter "+name) || !strings.Contains(out, "\nexample") ||
				!strings.Contains(out, "\n  starter "+name) {
				t.Errorf("help lacks the usage or an example:\n%s", out)
			}
			var listed []string
			for _, m := range helpFlag.FindAllStringSubmatch(out, -1) {
				listed = append(listed, m[1])
			}
			if got, want := configFlagsIn(listed), slices.Sorted(slices.Values(tc.cfg)); !slices.Equal(got, want) {
				t.Errorf("lists the settings %v, want %v:\n%s", got, want, out)
			}
			for _, f := range tc.own {
				if !slices.Contains(listed, f) {
					t.Errorf("does not list --%s:\n%s", f, out)
				}
			}
		})
	}
}

// configFlagsIn are the names among listed that are settings of the
// configuration, sorted.
func configFlagsIn(listed []string) []string {
	var c config.Config
	all := flag.NewFlagSet("config", flag.ContinueOnError)
	c.Flags(all)
	out := []string{}
	for _, name := range listed {
		if all.Lookup(name) != nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// A flag the command does not take is an error that says where its flags
// are listed, and the environment still sets what the flags no longer
// name.
func TestAFlagACommandDoesNotTakeIsRejected(t *testing.T) {
	getenv, _ := offlineEnv(t)
	code, out, errOut := runStarter(t, getenv, "promote", "--device", "cuda", "NFLX", "3")
	if code != 1 || out != "" || !strings.Contains(errOut, "-device") || !strings.Contains(errOut, "starter promote -h lists its flags") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
