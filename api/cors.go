package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// What a CORS preflight from an allowed origin is told: the methods and
// request headers the API's routes use, the answer headers a script may
// read, and how long the browser may cache the answer (seconds).
const (
	corsAllowMethods  = "GET, HEAD, POST, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type"
	corsExposeHeaders = "Location, Retry-After, WWW-Authenticate"
	corsMaxAge        = "600"
)

// corsPolicy is the set of origins whose pages may call the API from a
// browser (WithCORS).
type corsPolicy struct {
	any     bool            // "*" was listed: every origin
	origins map[string]bool // scheme://host[:port], lower case
}

// WithCORS lets pages of the listed origins (scheme://host[:port], e.g.
// https://dash.example.com; "*" for any) call the API from a browser:
// their requests get Access-Control-Allow-Origin, and their preflights
// (OPTIONS with Access-Control-Request-Method) 204 with the methods and
// headers the API uses (Authorization, Content-Type). Without it, or with
// no origin, CORS is off: no answer carries a CORS header and a preflight
// gets the 404 of any unrouted request, so browsers refuse cross-origin
// calls. Credentials (cookies) are never allowed: the API authenticates
// with bearer tokens.
func WithCORS(origins []string) Option {
	return func(s *Server) {
		p := &corsPolicy{origins: map[string]bool{}}
		for _, o := range origins {
			o = normalizeOrigin(o)
			switch o {
			case "":
			case "*":
				p.any = true
			default:
				p.origins[o] = true
			}
		}
		if !p.any && len(p.origins) == 0 {
			s.cors = nil
			return
		}
		s.cors = p
	}
}

// normalizeOrigin is an origin as browsers send it: lower case, without
// a trailing slash.
func normalizeOrigin(o string) string {
	return strings.TrimRight(strings.ToLower(strings.TrimSpace(o)), "/")
}

func (p *corsPolicy) allows(origin string) bool {
	return p.any || p.origins[normalizeOrigin(origin)]
}

// corsHeaders answers CORS: nothing while it is off (s.cors nil) or for a
// request from an origin not allowed; Access-Control-Allow-Origin for one
// that is; and a preflight from one is answered 204 here, before any
// route (the API has no OPTIONS routes).
func (s *Server) corsHeaders(c *gin.Context) {
	p := s.cors
	if p == nil {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Add("Vary", "Origin") // the answer depends on it: caches must not share it across origins
	origin := c.GetHeader("Origin")
	if origin == "" || !p.allows(origin) {
		c.Next()
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	c.Next()
}
