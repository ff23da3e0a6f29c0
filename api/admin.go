package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
)

// promoteBody is POST /models/{ticker}/promote's JSON (`starter promote
// [--reason R] TICKER VERSION`).
type promoteBody struct {
	Version int    `json:"version"`
	Reason  string `json:"reason"`
}

// rollbackBody is POST /models/{ticker}/rollback's JSON, which may be
// left out (`starter rollback [--reason R] TICKER`).
type rollbackBody struct {
	Reason string `json:"reason"`
}

// aliasAnswer is the answer of a promotion or rollback.
type aliasAnswer struct {
	Ticker   string `json:"ticker"`
	Champion int    `json:"champion"`
	Previous int    `json:"previous"` // the champion before (0: none)
	Changed  bool   `json:"changed"`  // false: the version already was champion
	Reason   string `json:"reason,omitempty"`
	// Notification is the workflow that notifies a rollback
	// (rollback-<TICKER>-<n>); NotificationError says why it was not
	// queued (the rollback stands).
	Notification      string `json:"notification,omitempty"`
	NotificationError string `json:"notification_error,omitempty"`
}

// promote answers POST /models/{ticker}/promote: the version becomes
// champion, bypassing the gate (recorded as forced, with the reason), as
// `starter promote` does. /predict serves it once its registry check sees
// it (within a second).
func (s *Server) promote(c *gin.Context) {
	t, ok := s.tickerParam(c)
	if !ok {
		return
	}
	body := promoteBody{Reason: launch.DefaultPromoteReason}
	if !readOptionalJSON(c, &body) {
		return
	}
	if body.Version < 1 {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("version: want a positive version number, got %d", body.Version), "field": "version"})
		return
	}
	before, ok := s.manifestOf(c, t)
	if !ok {
		return
	}
	reg := s.reg
	reg.Actor = actor(c)
	m, err := reg.SetAlias(c.Request.Context(), t, registry.Champion, body.Version, body.Reason, true, "")
	switch {
	case errors.Is(err, registry.ErrNoVersion):
		jsonError(c, http.StatusNotFound, fmt.Sprintf("%s has no version %d", t, body.Version))
		return
	case err != nil:
		s.storeFailed(c, err)
		return
	}
	ans := aliasAnswer{Ticker: t, Champion: m.Aliases[registry.Champion], Previous: before.Aliases[registry.Champion], Reason: body.Reason}
	ans.Changed = ans.Champion != ans.Previous
	slog.Info("api: promote", "ticker", t, "champion", ans.Champion, "previous", ans.Previous, "changed", ans.Changed)
	c.JSON(http.StatusOK, ans)
}

// rollback answers POST /models/{ticker}/rollback: the champion before the
// current one becomes champion again, and a Notification workflow is
// queued for it (the same one `starter rollback` queues: one per
// rollback, whichever queued it).
func (s *Server) rollback(c *gin.Context) {
	t, ok := s.tickerParam(c)
	if !ok {
		return
	}
	body := rollbackBody{Reason: launch.DefaultRollbackReason}
	if !readOptionalJSON(c, &body) {
		return
	}
	before, ok := s.manifestOf(c, t)
	if !ok {
		return
	}
	cur := before.Aliases[registry.Champion]
	if cur == 0 {
		jsonError(c, http.StatusConflict, t+" has no champion to roll back")
		return
	}
	reg := s.reg
	reg.Actor = actor(c)
	m, err := reg.Rollback(c.Request.Context(), t, body.Reason)
	switch {
	case errors.Is(err, blob.ErrUnavailable):
		s.storeFailed(c, err)
		return
	case err != nil:
		jsonError(c, http.StatusConflict, err.Error()) // no champion before it, or it changed meanwhile
		return
	}
	ans := aliasAnswer{Ticker: t, Champion: m.Aliases[registry.Champion], Previous: cur, Changed: true, Reason: body.Reason}
	// The rollback is done; its notification is best effort.
	w := s.workflows
	ctx, cancel := context.WithTimeout(c.Request.Context(), w.timeout)
	defer cancel()
	id, err := launch.NotifyRollback(ctx, w.client, w.queue, "API rollback", t, m)
	if err != nil {
		ans.NotificationError = err.Error()
		slog.Warn("api: rollback notification not queued", "ticker", t, "err", err)
	} else {
		ans.Notification = id
	}
	slog.Info("api: rollback", "ticker", t, "champion", ans.Champion, "previous", ans.Previous, "notification", ans.Notification)
	c.JSON(http.StatusOK, ans)
}

// tickerParam is the route's ticker, normalised and checked (400
// otherwise), and logged with the request.
func (s *Server) tickerParam(c *gin.Context) (string, bool) {
	t, err := pipeline.NormalizeTicker(c.Param("ticker"))
	if err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": err.Error(), "field": "ticker"})
		return "", false
	}
	c.Set(logTicker, t)
	return t, true
}

// manifestOf reads a ticker's manifest: 404 when it has no model, 503
// while the store is unavailable.
func (s *Server) manifestOf(c *gin.Context, t string) (registry.Manifest, bool) {
	if s.storeDown(c) {
		return registry.Manifest{}, false
	}
	m, err := s.reg.Manifest(c.Request.Context(), t)
	switch {
	case errors.Is(err, registry.ErrNoModel):
		jsonError(c, http.StatusNotFound, "no model registered for ticker "+t)
		return m, false
	case err != nil:
		s.storeFailed(c, err)
		return m, false
	}
	return m, true
}
