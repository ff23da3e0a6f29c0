package main

import (
	"context"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/logging"
	"github.com/finsight/finsight/internal/temporalconn"
)

// dial connects to the configured Temporal frontend. The Temporal SDK's
// log lines go through slog to stderr at the configured level and format
// (FINSIGHT_LOG_LEVEL, FINSIGHT_LOG_FORMAT), so stdout holds only the
// starter's own output (and --json stays parseable).
func dial(cfg config.Config) (client.Client, error) {
	logger, err := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return nil, err
	}
	return temporalconn.Dial(context.Background(), cfg, client.Options{Logger: logging.Temporal(logger)})
}
