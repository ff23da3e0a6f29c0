package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"text/tabwriter"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
)

// openRegistry parses the common flags and opens the store's registry.
func openRegistry(ctx context.Context, name string, args []string, cfg config.Config, extra func(*flag.FlagSet)) (registry.Registry, *flag.FlagSet, error) {
	fs := newFlagSet(name)
	cfg.FlagsFor(fs, config.StoreFlags...)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return registry.Registry{}, nil, err
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return registry.Registry{}, nil, err
	}
	return registry.Registry{Store: store}, fs, nil
}

// listModels prints every ticker's versions with their aliases and metrics.
func listModels(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	var ticker *string
	var asJSON *bool
	reg, _, err := openRegistry(ctx, "models", args, cfg, func(fs *flag.FlagSet) {
		ticker = fs.String("ticker", "", "only this ticker")
		asJSON = fs.Bool("json", false, "print the manifests as JSON")
	})
	if err != nil {
		return err
	}
	tickers := []string{}
	if *ticker != "" {
		t, err := pipeline.NormalizeTicker(*ticker)
		if err != nil {
			return err
		}
		tickers = append(tickers, t)
	} else if tickers, err = reg.Tickers(ctx); err != nil {
		return err
	}
	var manifests []registry.Manifest
	for _, t := range tickers {
		m, err := reg.Manifest(ctx, t)
		if err != nil {
			return err
		}
		manifests = append(manifests, m)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(manifests)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TICKER\tVERSION\tALIAS\tCREATED\tTEST RMSE\tNAIVE RMSE\tRUN")
	for _, m := range manifests {
		for _, v := range m.Versions {
			alias := ""
			for name, n := range m.Aliases {
				if n == v.Version {
					alias = name
				}
			}
			fmt.Fprintf(tw, "%s\tv%d\t%s\t%s\t%.4f\t%.4f\t%s\n", m.Ticker, v.Version, alias, v.CreatedAt.Format("2006-01-02 15:04"),
				v.Metrics.TestRMSE, v.Metrics.NaiveRMSE, v.RunID)
		}
	}
	return tw.Flush()
}

// promote makes a version champion, bypassing the gate (recorded as forced).
func promote(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	var reason *string
	reg, fs, err := openRegistry(ctx, "promote", args, cfg, func(fs *flag.FlagSet) {
		reason = fs.String("reason", launch.DefaultPromoteReason, "why, for the registry history")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("usage: starter promote [--reason R] TICKER VERSION")
	}
	t, err := pipeline.NormalizeTicker(fs.Arg(0))
	if err != nil {
		return err
	}
	v, err := strconv.Atoi(fs.Arg(1))
	if err != nil || v < 1 {
		return fmt.Errorf("version %q: want a positive number", fs.Arg(1))
	}
	reg.Actor = starterActor()
	m, err := reg.SetAlias(ctx, t, registry.Champion, v, *reason, true, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s champion is now v%d\n", t, m.Aliases[registry.Champion])
	return nil
}

// rollback makes the previous champion champion again.
func rollback(ctx context.Context, args []string, stdout io.Writer, cfg config.Config) error {
	var reason *string
	reg, fs, err := openRegistry(ctx, "rollback", args, cfg, func(fs *flag.FlagSet) {
		reason = fs.String("reason", launch.DefaultRollbackReason, "why, for the registry history")
		cfg.FlagsFor(fs, flagsOf(dialFlags(), queueFlag)...) // to queue the rollback's notification
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: starter rollback [--reason R] TICKER")
	}
	t, err := pipeline.NormalizeTicker(fs.Arg(0))
	if err != nil {
		return err
	}
	reg.Actor = starterActor()
	m, err := reg.Rollback(ctx, t, *reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s champion is back to v%d\n", t, m.Aliases[registry.Champion])
	// The rollback is done; its notification is best effort.
	if id, err := notifyRollback(ctx, cfg, t, m); err != nil {
		fmt.Fprintf(stdout, "the rollback's notification was not queued (%v); the workers were not told\n", err)
	} else {
		fmt.Fprintf(stdout, "notification queued: workflow %s\n", id)
	}
	return nil
}

// notifyRollback queues the Notification of the rollback m's last alias
// move records (launch.NotifyRollback, as the API's rollback does) and
// returns its workflow id.
func notifyRollback(ctx context.Context, cfg config.Config, ticker string, m registry.Manifest) (string, error) {
	c, err := dial(cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return launch.NotifyRollback(ctx, c, cfg.TaskQueue, "starter rollback", ticker, m)
}

// starterActor is who the starter's alias moves are recorded as made by:
// "starter (<user>@<host>)", with $USER when the account cannot be looked
// up and "unknown" for what cannot be found at all.
func starterActor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("starter (%s@%s)", name, host)
}
