package main

import (
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
)

// quietLogger drops the Temporal SDK's log lines so that the starter's
// output is only its own (and --json stays parseable).
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}

// dial connects to the configured Temporal frontend, quietly.
func dial(cfg config.Config) (client.Client, error) {
	c, err := client.Dial(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.Namespace, Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
}
