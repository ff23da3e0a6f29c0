package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"": slog.LevelInfo, "info": slog.LevelInfo, "DEBUG": slog.LevelDebug,
		"warn": slog.LevelWarn, "warning": slog.LevelWarn, " error ": slog.LevelError} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLevel("verbose"); err == nil || !strings.Contains(err.Error(), "FINSIGHT_LOG_LEVEL") {
		t.Errorf("ParseLevel(verbose): %v, want an error naming FINSIGHT_LOG_LEVEL", err)
	}
}

func TestNewJSONAtInfo(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "", "json")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("shown", "ticker", "NFLX")
	Temporal(l).Info("from the sdk", "WorkflowID", "train-NFLX-1")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (debug hidden at the default info level):\n%s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if first["msg"] != "shown" || first["ticker"] != "NFLX" || first["level"] != "INFO" {
		t.Errorf("first line %v", first)
	}
	if second["msg"] != "from the sdk" || second["WorkflowID"] != "train-NFLX-1" {
		t.Errorf("sdk line %v", second)
	}
}

func TestNewTextAndErrors(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "warn", "TEXT")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("careful", "n", 1)
	if got := buf.String(); !strings.Contains(got, "level=WARN msg=careful n=1") || strings.Contains(got, "hidden") {
		t.Errorf("text output %q", got)
	}
	if _, err := New(&buf, "info", "xml"); err == nil || !strings.Contains(err.Error(), "FINSIGHT_LOG_FORMAT") {
		t.Errorf("format xml: %v, want an error naming FINSIGHT_LOG_FORMAT", err)
	}
}
