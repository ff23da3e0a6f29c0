package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/blob"
)

// readyCheck is one dependency /readyz checks.
type readyCheck struct {
	name  string
	check func(context.Context) error
}

// readyz answers GET /readyz: 200 {"status":"ready","checks":{...}} when the
// store (a List of registry/) and every added check (Temporal, when the hook
// uses it) answer within the lookup timeout, else 503 {"status":"not ready",
// "error": ..., "checks": {...}} with Retry-After, naming what failed. Unlike
// /healthz (the process is alive), it says whether requests can be served.
// A store that answers ends a remembered outage at once.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.lookupTimeout)
	defer cancel()
	checks := append([]readyCheck{{name: "store", check: s.checkStore}}, s.readyChecks...)
	results := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, rc := range checks {
		wg.Go(func() { results[i] = rc.check(ctx) })
	}
	wg.Wait()
	status := map[string]string{}
	var failed []string
	for i, rc := range checks {
		if err := results[i]; err != nil {
			status[rc.name] = "unavailable: " + err.Error()
			failed = append(failed, rc.name+": "+err.Error())
			continue
		}
		status[rc.name] = "ok"
	}
	if len(failed) > 0 {
		c.Header("Retry-After", strconv.Itoa(s.health.retryAfterSeconds()))
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{
			"status": "not ready",
			"error":  "not ready: " + strings.Join(failed, "; "),
			"checks": status,
		})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": status})
}

// checkStore lists registry/ (what /models does first) and records the
// outcome in the store's health.
func (s *Server) checkStore(ctx context.Context) error {
	_, err := s.store.List(ctx, "registry/")
	if err != nil && ctx.Err() != nil {
		err = s.timedOut("list", "registry/", err)
	}
	switch {
	case err == nil:
		s.health.markUp()
	case errors.Is(err, blob.ErrUnavailable):
		s.health.markDown(err)
	}
	return err
}
