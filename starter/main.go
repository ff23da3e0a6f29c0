// Command starter drives FinSight from a terminal: it starts pipelines on
// Temporal and prints their results.
//
//	starter train --ticker T --csv FILE [--epochs N --units N --layers N --lr X --batch N] [--wait] [--json]
//	starter fleet (--sp500 | --csv-dir DIR | --prefix P) [--kind training|retraining|prepare] [--parallel N] [--wait]
//	starter backtest --ticker T [--csv FILE] [--folds K --epochs N --parallel P] [--wait]
//	starter retrain --ticker T --csv FILE [--mode finetune|full|auto] [--wait] [--json]
//	starter schedule create|inbox|list|delete|trigger [flags]
//	starter predict --ticker T --csv FILE [--api URL] [--version N | --alias NAME]
//	starter synth --out FILE [--seed N --days N]
//	starter watch|status|cancel WORKFLOW_ID
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/finsight/finsight/internal/config"
)

const usage = `usage: starter <command> [flags]

commands:
  train    upload a CSV and run TrainingPipeline on it
  fleet    train, retrain or prepare many tickers (a folder of CSVs, --sp500, a store prefix)
  backtest walk-forward evaluation: K folds, each trained on the past and scored, with the baselines, on the block after it
  retrain  upload a CSV of new prices and hand it to the ticker's TickerRetrainer
  retrains a ticker's retraining queue and results [--ticker T] [--wait [--count N]] [--json]
  schedule periodic refreshes and inbox scans: schedule create|inbox|list|delete|trigger
  validate ingest and validate a CSV (or a Yahoo download) and list its anomalies
  predict  send a CSV's last Opens to the API's /predict
  synth    write seeded SYNTHETIC prices (the offline demo's data)
  runs     list pipeline runs [--ticker T] [--json]
  run      show one run's report summary: run [--json] RUN_ID
  models   list model versions and aliases [--ticker T] [--json]
  promote  make a version champion: promote TICKER VERSION
  rollback make the previous champion champion again: rollback TICKER
  watch    follow a pipeline's progress (a bar on a terminal) until it ends: watch WORKFLOW_ID
  status   a workflow's status, stage, epoch and last error, once: status WORKFLOW_ID
  cancel   cancel a workflow and report how it ended: cancel WORKFLOW_ID

run 'starter <command> -h' for a command's flags and an example`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	// The configuration is read once, here; each command binds the flags
	// of the settings it uses (see flags.go).
	cfg := config.FromEnv(getenv)
	var err error
	switch args[0] {
	case "train":
		err = train(ctx, args[1:], stdout, cfg)
	case "fleet":
		err = fleetCmd(ctx, args[1:], stdout, cfg, getenv)
	case "backtest":
		err = backtestCmd(ctx, args[1:], stdout, cfg)
	case "retrain":
		err = retrain(ctx, args[1:], stdout, cfg)
	case "retrains":
		err = retrains(ctx, args[1:], stdout, cfg)
	case "schedule":
		err = schedule(ctx, args[1:], stdout, cfg)
	case "validate":
		err = validateData(ctx, args[1:], stdout, cfg)
	case "predict":
		err = predict(args[1:], stdout, cfg)
	case "synth":
		err = synthCSV(args[1:], stdout)
	case "runs":
		err = listRuns(ctx, args[1:], stdout, cfg)
	case "run":
		err = showRun(ctx, args[1:], stdout, cfg)
	case "models":
		err = listModels(ctx, args[1:], stdout, cfg)
	case "promote":
		err = promote(ctx, args[1:], stdout, cfg)
	case "rollback":
		err = rollback(ctx, args[1:], stdout, cfg)
	case "watch":
		err = watch(ctx, args[1:], stdout, cfg)
	case "status":
		err = showStatus(ctx, args[1:], stdout, cfg)
	case "cancel":
		err = cancelWorkflow(ctx, args[1:], stdout, cfg)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "starter: unknown command %q\n%s\n", args[0], usage)
		return 2
	}
	var help *helpShown
	if errors.As(err, &help) {
		fmt.Fprint(stdout, help.text)
		return 0
	}
	if err != nil {
		if line, ok := storeUnavailable(err); ok {
			fmt.Fprintln(stderr, "starter:", line)
		}
		fmt.Fprintln(stderr, "starter:", err)
		return 1
	}
	return 0
}
