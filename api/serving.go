package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/registry"
)

// choose returns what answers ticker's /predict (resolve): by default the
// champion, or the naive forecast when the ticker has none; the version or
// alias the query asks for (?version=N, ?alias=NAME) otherwise. The
// registry manifest comes from memory, checked for changes at most every
// refresh interval (WithManifestRefresh), so the steady state reads nothing
// from the store.
//
// It answers the errors itself and returns ok false: 400 for a malformed
// query, 404 for an unknown ticker, version or alias, 503 while the store is
// unavailable and nothing read before can answer.
func (s *Server) choose(c *gin.Context, ticker string) (ch choice, ask askFor, ok bool) {
	ask, err := parseAsk(c)
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return ch, ask, false
	}
	ch, err = s.resolve(c.Request.Context(), ticker, ask)
	var nf notFound
	switch {
	case errors.As(err, &nf):
		jsonError(c, http.StatusNotFound, nf.Error())
		return ch, ask, false
	case errors.Is(err, registry.ErrNoModel):
		jsonError(c, http.StatusNotFound, fmt.Sprintf("no model registered for ticker %s", ticker))
		return ch, ask, false
	case errors.Is(err, blob.ErrUnavailable): // resolve has recorded it
		s.unavailable(c, err)
		return ch, ask, false
	case err != nil:
		jsonError(c, http.StatusInternalServerError, err.Error())
		return ch, ask, false
	}
	if ch.model != nil {
		c.Set(logModelVersion, ch.model.version)
	}
	if ch.stale {
		s.metrics.CacheHit(ticker) // what was read before answers while the store is out
	}
	return ch, ask, true
}

// served records what answered ticker's default selection (the champion's
// version, 0 for the naive forecast) in finsight_api_model_version;
// versions asked for by the query are not the ticker's served model.
func (s *Server) served(ticker string, ch choice, ask askFor) {
	if ask.isDefault() {
		s.metrics.Served(ticker, ch.version())
	}
}
