package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// tokensOff is what a mutating route answers while no token is
// configured: they are off unless someone turned them on.
const tokensOff = "this endpoint changes things (it starts or cancels workflows, or moves a model alias) and is off: " +
	"set FINSIGHT_API_TOKENS (or --api-tokens) on the API to one or more comma-separated secret tokens, " +
	"then send one as Authorization: Bearer <token>"

// bearerChallenge is the WWW-Authenticate of a 401.
const bearerChallenge = `Bearer realm="finsight"`

// tokenSet holds the bearer tokens of the mutating routes as SHA-256
// sums: a request's token is hashed and compared with every one in
// constant time, so neither a token's content nor its length leaks
// through timing, and the tokens themselves are not kept.
type tokenSet struct {
	sums [][sha256.Size]byte
}

func newTokenSet(tokens []string) tokenSet {
	var s tokenSet
	for _, t := range tokens {
		if t = strings.TrimSpace(t); t != "" {
			s.sums = append(s.sums, sha256.Sum256([]byte(t)))
		}
	}
	return s
}

// match reports whether token is one of the set, and if so the index of
// the one it is. It looks at every configured token whatever matched,
// selecting the index in constant time too.
func (s tokenSet) match(token string) (int, bool) {
	sum := sha256.Sum256([]byte(token))
	found, index := 0, 0
	for i := range s.sums {
		eq := subtle.ConstantTimeCompare(sum[:], s.sums[i][:])
		index = subtle.ConstantTimeSelect(eq, i, index)
		found |= eq
	}
	return index, found == 1
}

// fingerprint names the i-th token without revealing it: the first 8 hex
// digits of its SHA-256, as alias moves record who made them.
func (s tokenSet) fingerprint(i int) string {
	return hex.EncodeToString(s.sums[i][:4])
}

// tokenKey is the gin context key of the fingerprint of the token a
// request authenticated with (requireToken).
const tokenKey = "finsight.token"

// actor is who a request that passed requireToken acts as, for the
// registry's alias history: "api token <fingerprint>".
func actor(c *gin.Context) string {
	if fp := c.GetString(tokenKey); fp != "" {
		return "api token " + fp
	}
	return "api"
}

// requireToken guards a mutating route: 403 while no token is configured
// (saying how to turn the routes on), 401 with WWW-Authenticate when the
// request has no bearer token, 403 when its token is not one of them.
// Neither the header nor the token is ever logged; the fingerprint of the
// token that matched is put in the context (tokenKey, see actor).
func (s *Server) requireToken(c *gin.Context) {
	var tokens tokenSet
	if s.workflows != nil {
		tokens = s.workflows.tokens
	}
	if len(tokens.sums) == 0 {
		jsonError(c, http.StatusForbidden, tokensOff)
		return
	}
	h := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	switch {
	case h == "":
		c.Header("WWW-Authenticate", bearerChallenge)
		jsonError(c, http.StatusUnauthorized, "missing Authorization: Bearer <token>")
		return
	case !ok || !strings.EqualFold(scheme, "Bearer") || token == "":
		c.Header("WWW-Authenticate", bearerChallenge+`, error="invalid_request"`)
		jsonError(c, http.StatusUnauthorized, "malformed Authorization header: want Bearer <token>")
		return
	}
	i, ok := tokens.match(token)
	if !ok {
		jsonError(c, http.StatusForbidden, "wrong token")
		return
	}
	c.Set(tokenKey, tokens.fingerprint(i))
	c.Next()
}
