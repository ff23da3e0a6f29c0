package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// downStores are GCS endpoints of a store that is down: a server that never
// answers and a port that refuses connections.
func downStores(t *testing.T) map[string]string {
	t.Helper()
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // the server notices a client that went away only after the body is read
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) }) // runs first
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	return map[string]string{"hanging": hanging.URL, "refused": refused}
}

// TestStoreCommandsFailClearlyWhenTheStoreIsDown: commands that read or
// change the store exit 1 within the store timeout with a message naming
// the store and saying it is unavailable, instead of hanging silently.
func TestStoreCommandsFailClearlyWhenTheStoreIsDown(t *testing.T) {
	for name, endpoint := range downStores(t) {
		env := map[string]string{
			"TEMPORAL_ADDRESS":       "127.0.0.1:1",
			"FINSIGHT_STORE":         "gs://finsight/prod",
			"FINSIGHT_GCS_ENDPOINT":  endpoint,
			"FINSIGHT_STORE_TIMEOUT": "300ms",
		}
		getenv := func(k string) string { return env[k] }
		for _, args := range [][]string{
			{"models"},
			{"models", "--ticker", "NFLX"},
			{"promote", "NFLX", "1"},
			{"rollback", "NFLX"},
			{"runs"},
			{"run", "train-NFLX-1"},
		} {
			t.Run(name+"/"+strings.Join(args, " "), func(t *testing.T) {
				type result struct {
					code           int
					stdout, stderr string
				}
				done := make(chan result, 1)
				go func() {
					code, out, errOut := runStarter(t, getenv, args...)
					done <- result{code, out, errOut}
				}()
				var r result
				select {
				case r = <-done:
				case <-time.After(20 * time.Second):
					t.Fatal("the command still runs after 20 s: it hangs")
				}
				if r.code != 1 {
					t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
				}
				first, _, _ := strings.Cut(r.stderr, "\n")
				if !strings.Contains(first, "store gs://finsight/prod is unavailable") {
					t.Errorf("first line %q does not say that store gs://finsight/prod is unavailable", first)
				}
				if name == "hanging" && !strings.Contains(first, "no answer within 300ms") {
					t.Errorf("first line %q does not say how long it waited", first)
				}
				t.Log(r.stderr)
			})
		}
	}
}

func TestStoreUnavailableIgnoresOtherErrors(t *testing.T) {
	if line, ok := storeUnavailable(errTest("no model registered")); ok {
		t.Fatalf("a registry answer reported as an outage: %q", line)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
