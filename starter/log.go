package main

// quietLogger drops the Temporal SDK's log lines so that the starter's
// output is only its own (and --json stays parseable).
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}
