// Package logging sets up FinSight's structured logs (log/slog) from the
// configuration: a level (debug, info, warn, error; default info) and a
// format (text or json), written to one stream. The Temporal SDK logs
// through the same logger (Temporal adapts it).
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/log"
)

// Settings, as FINSIGHT_LOG_LEVEL / --log-level and FINSIGHT_LOG_FORMAT /
// --log-format spell them.
const (
	FormatText = "text"
	FormatJSON = "json"

	DefaultLevel  = "info"
	DefaultFormat = FormatText
)

// ParseLevel reads debug, info, warn (or warning) or error, in any case;
// "" is info.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q (FINSIGHT_LOG_LEVEL, --log-level): want debug, info, warn or error", s)
}

// New returns a logger writing to w at level, as text (key=value) or JSON
// lines ("" is text).
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	lv, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "", FormatText:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q (FINSIGHT_LOG_FORMAT, --log-format): want text or json", format)
}

// Temporal adapts l for the Temporal SDK (client.Options.Logger): the SDK's
// own lines, and those of workflow.GetLogger and activity.GetLogger (which
// carry WorkflowID, RunID, ActivityType, Attempt, ...), go through l.
func Temporal(l *slog.Logger) log.Logger {
	if l == nil {
		l = slog.Default()
	}
	return log.NewStructuredLogger(l)
}
