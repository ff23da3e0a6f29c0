package main

import (
	"log/slog"
	"os"

	"go.temporal.io/sdk/log"
)

// newLogger logs the SDK's messages as text lines on stderr, warnings up.
func newLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}
