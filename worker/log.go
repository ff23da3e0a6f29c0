package main

import (
	"log/slog"

	"go.temporal.io/sdk/log"

	"github.com/finsight/finsight/internal/logging"
)

// newLogger passes the Temporal SDK's messages (and those of
// workflow.GetLogger and activity.GetLogger) to slog's default logger,
// which main sets from FINSIGHT_LOG_LEVEL and FINSIGHT_LOG_FORMAT.
func newLogger() log.Logger {
	return logging.Temporal(slog.Default())
}
