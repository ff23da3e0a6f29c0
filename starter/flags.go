package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/finsight/finsight/internal/config"
)

// Each command registers only the flags it uses: its own, and the
// settings of config.Config it needs (config.FlagsFor), so that
// `starter <command> --help` lists nothing the command ignores. The
// configuration itself is read once, in run, from the environment; a
// command's flags override the fields they bind.

// commandDoc is what a command's --help says above its flags.
type commandDoc struct {
	usage    string   // the synopsis, after "usage: "
	about    string   // what it does, one or two sentences
	examples []string // command lines that work as shown
}

// commandDocs are keyed by the command's name ("schedule create" for a
// subcommand).
var commandDocs = map[string]commandDoc{
	"train": {
		"starter train --ticker T (--csv FILE | --store-csv KEY | --source yahoo --start DATE [--end DATE]) [flags]",
		"Upload the prices (or name a CSV in the store, or download them from Yahoo) and run TrainingPipeline on them.\n" +
			"--wait draws the run's progress (a bar on a terminal, lines otherwise) and prints the result.",
		[]string{"starter train --ticker NFLX --csv ../shared/data/single/NFLX.csv --epochs 10 --wait"},
	},
	"fleet": {
		"starter fleet (--sp500 | --csv-dir DIR [--tickers A,B] | --prefix P) [--kind training|retraining|prepare] [--parallel N] [training flags] [--wait]",
		"Upload a folder of price files (one per ticker) and run FleetPipeline: a TrainingPipeline (or RetrainingPipeline) per ticker,\n" +
			"at most --parallel at once, or, with --kind prepare, the data chain alone in groups of tickers. One ticker's failure never\n" +
			"fails the fleet. --wait follows its progress and prints its report (also in the store: fleets/<id>/).",
		[]string{"starter fleet --sp500 --epochs 2 --parallel 8 --wait", "starter fleet --csv-dir ./prices --kind prepare --wait"},
	},
	"backtest": {
		"starter backtest --ticker T [--csv FILE] [--folds K] [--fold-len N] [--step N] [--mode expanding|sliding] [--epochs N] [--parallel P] [--levels 0.8,0.95] [--wait]",
		"Run Backtest: walk-forward evaluation over K folds, each training a model on the rows before its test block and scoring it,\n" +
			"beside the naive, drift and EWMA baselines, on that block; intervals are calibrated per fold. Without --csv it uses the data\n" +
			"the ticker's champion was trained on. Nothing is registered. --wait prints the summary table; the report is backtests/<id>/.",
		[]string{"starter backtest --ticker NFLX --csv ../shared/data/single/NFLX.csv --folds 8 --epochs 3 --wait"},
	},
	"retrain": {
		"starter retrain --ticker T --csv FILE [flags]",
		"Upload a CSV of new prices and hand it to the ticker's TickerRetrainer (workflow retrain-<TICKER>).\n" +
			"--wait follows the file to its retrain, draws that retrain's progress and prints the result.",
		[]string{"starter retrain --ticker NFLX --csv NEW.csv --mode auto --wait"},
	},
	"retrains": {
		"starter retrains --ticker T [--wait [--count N] [--timeout D]] [--json]",
		"Show a ticker's retraining queue: what is queued, what runs, the last results.",
		[]string{"starter retrains --ticker NFLX", "starter retrains --ticker NFLX --wait --timeout 30m"},
	},
	"validate": {
		"starter validate (--csv FILE | --store-csv KEY | --source yahoo --start DATE [--end DATE]) [--ticker T] [--json]",
		"Ingest and validate prices (workflow ValidateData) and list the anomalies found.",
		[]string{"starter validate --csv ../shared/data/single/AAPL.csv --ticker AAPL"},
	},
	"predict": {
		"starter predict --ticker T --csv FILE [--api URL] [--n N] [--version N | --alias NAME]",
		"Send the last Opens of a CSV to the API's /predict and print its answer, saying what made the forecast:\n" +
			"the ticker's champion, or the naive forecast (the last Open) when no version beats it, or the version or alias asked for.",
		[]string{"starter predict --ticker NFLX --csv ../shared/data/single/NFLX.csv", "starter predict --ticker NFLX --csv ../shared/data/single/NFLX.csv --version 1"},
	},
	"synth": {
		"starter synth --out FILE [--seed N] [--days N]",
		"Write seeded SYNTHETIC daily prices (the offline demo's data) to a CSV.",
		[]string{"starter synth --out /tmp/synth.csv --days 1500"},
	},
	"runs": {
		"starter runs [--ticker T] [--json]",
		"List the pipeline runs recorded in the store, newest first.",
		[]string{"starter runs --ticker NFLX"},
	},
	"run": {
		"starter run [--json] RUN_ID",
		"Show one run's report summary (or its record as JSON).",
		[]string{"starter run train-NFLX-de475001-1a2b3c4d"},
	},
	"models": {
		"starter models [--ticker T] [--json]",
		"List the registered model versions with their aliases and metrics.",
		[]string{"starter models --ticker NFLX"},
	},
	"promote": {
		"starter promote [--reason R] TICKER VERSION",
		"Make a version the ticker's champion, bypassing the gate (recorded as forced, with the reason).",
		[]string{"starter promote --reason 'better on 2022' NFLX 3"},
	},
	"rollback": {
		"starter rollback [--reason R] TICKER",
		"Make the previous champion champion again.",
		[]string{"starter rollback NFLX"},
	},
	"watch": {
		"starter watch [flags] WORKFLOW_ID",
		"Follow a running pipeline through its progress query until it ends: a bar (step, epoch n/N, loss, ETA)\n" +
			"on a terminal, a line per change otherwise; then its result. Exits 1 unless it completed.",
		[]string{"starter watch train-NFLX-de475001-1a2b3c4d"},
	},
	"status": {
		"starter status [flags] WORKFLOW_ID",
		"Show a workflow's status once: state, stage, epoch, last error, memo.",
		[]string{"starter status train-NFLX-de475001-1a2b3c4d", "starter status --json retrain-NFLX"},
	},
	"cancel": {
		"starter cancel [flags] WORKFLOW_ID",
		"Ask a running workflow to cancel, wait a little for it to end and report its final status.\n" +
			"Exits 1 when it is not cancelled within --wait.",
		[]string{"starter cancel train-NFLX-de475001-1a2b3c4d", "starter cancel --wait 2m retrain-NFLX"},
	},
	"schedule create": {
		"starter schedule create --ticker T [--every D] [--source yahoo] [--mode M] [--run-device D] [--update]",
		"Refresh a ticker from Yahoo periodically (schedule finsight-refresh-<TICKER>, workflow RefreshTicker).",
		[]string{"starter schedule create --ticker NFLX --every 24h"},
	},
	"schedule inbox": {
		"starter schedule inbox [--every D] [--run-device D]",
		"Scan the store's inbox/ periodically (schedule finsight-inbox); updates the interval when it exists.",
		[]string{"starter schedule inbox --every 5m"},
	},
	"schedule list": {
		"starter schedule list [--json]",
		"List FinSight's schedules: what each runs, how often, the next run, actions taken, paused or not.",
		[]string{"starter schedule list"},
	},
	"schedule delete": {
		"starter schedule delete (--ticker T | --id ID)",
		"Delete a schedule (the workflows it started go on).",
		[]string{"starter schedule delete --ticker NFLX", "starter schedule delete --id finsight-inbox"},
	},
	"schedule trigger": {
		"starter schedule trigger (--ticker T | --id ID)",
		"Run a schedule's action now (skipped while its previous run is still going).",
		[]string{"starter schedule trigger --ticker NFLX"},
	},
}

// Settings each kind of command binds.
var (
	uiFlag    = []string{"ui"}
	queueFlag = []string{"task-queue"}
)

// dialFlags are the settings that reach Temporal: its address and
// namespace, and the log settings of the Temporal client (see dial) where
// the configuration has them.
func dialFlags() []string {
	var c config.Config
	all := flag.NewFlagSet("config", flag.ContinueOnError)
	c.Flags(all)
	out := slices.Clone(config.TemporalFlags)
	for _, name := range []string{"log-level", "log-format"} {
		if all.Lookup(name) != nil {
			out = append(out, name)
		}
	}
	return out
}

// flagsOf joins groups of setting names.
func flagsOf(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// newFlagSet is the flag set of command name, whose usage prints the
// command's doc, an example and its flags.
func newFlagSet(name string) *flag.FlagSet {
	doc, ok := commandDocs[name]
	if !ok {
		panic("starter: no doc for command " + name)
	}
	fs := flag.NewFlagSet("starter "+name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n\n%s\n\nexample", doc.usage, doc.about)
		if len(doc.examples) > 1 {
			fmt.Fprint(w, "s")
		}
		fmt.Fprintln(w, ":")
		for _, e := range doc.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// helpShown is what parsing returns for -h/--help: the command's help,
// which run prints on stdout before exiting 0.
type helpShown struct{ text string }

func (h *helpShown) Error() string { return "help requested" }

// parseFlags parses args with fs. -h/--help comes back as *helpShown; a
// bad flag as an error that says where the command's flags are listed
// (the flag package's own message and usage are not printed).
func parseFlags(fs *flag.FlagSet, args []string) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		buf.Reset()
		fs.Usage()
		return &helpShown{text: buf.String()}
	}
	if err != nil {
		return fmt.Errorf("%w (%s -h lists its flags)", err, fs.Name())
	}
	return nil
}

// oneArg parses flags and wants exactly one positional argument (what).
func oneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", fmt.Errorf("want one %s, got %d arguments (%s -h shows the usage)", what, fs.NArg(), fs.Name())
	}
	return strings.TrimSpace(fs.Arg(0)), nil
}
