package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/gin-gonic/gin"
)

// noBodyMax bounds the body of a route that reads none (GET, DELETE, ...):
// a stray "{}" from a client passes, anything bigger is refused unread.
const noBodyMax = 4 << 10

// bodyLimit is the most bytes a request to route (Gin's full path, "" when
// no route matched) may send. Each handler that reads a body also bounds
// it itself, with the same or a smaller limit (a JSON /predict: 1 MiB);
// this is the wall in front of every route, the ones that read no body
// included.
func bodyLimit(method, route string) int64 {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return noBodyMax
	}
	switch route {
	case "/predict":
		return maxUploadBody // a price file; a JSON body is held to maxPredictBody by the handler
	case "/train", "/retrain":
		return workflowUploadMax // a price file; JSON to workflowJSONMax
	case "/hooks/gcs":
		return hookMaxBody
	}
	return workflowJSONMax // /fleet, /models/{ticker}/promote|rollback, and any route added later
}

// boundBody holds every request's body to its route's bodyLimit: a body
// declared longer answers 413 before a byte of it is read, and one sent
// without a length (chunked) cannot be read past the limit (the handler
// sees an *http.MaxBytesError and answers 413).
func (s *Server) boundBody(c *gin.Context) {
	limit := bodyLimit(c.Request.Method, c.FullPath())
	if c.Request.ContentLength > limit {
		// The body stays unread; the connection cannot be reused.
		c.Header("Connection", "close")
		jsonError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the %s limit of %s %s",
			c.Request.ContentLength, byteSize(limit), c.Request.Method, routeName(c)))
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

// routeName is the request's route as the OpenAPI document writes it,
// or its path when no route matched.
func routeName(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return c.Request.URL.Path
}

// byteSize writes n bytes as MiB or KiB when it is a whole number of them.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// internalError is the whole answer to a request whose handler panicked:
// neither the panic nor a stack trace nor a file name leaves the server.
const internalError = "internal error"

// recoverPanics turns a handler's panic into 500 {"error":"internal
// error"} (unless the answer had started, which is then cut short) and
// logs the panic with its stack at error level, with the route but no
// header or query (which may carry a token). http.ErrAbortHandler passes
// through: it is how a handler asks net/http to drop the connection.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler { // net/http compares the sentinel itself
			panic(p)
		}
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "panic serving a request",
			slog.String("method", c.Request.Method),
			slog.String("route", routeName(c)),
			slog.String("panic", fmt.Sprint(p)),
			slog.String("stack", string(debug.Stack())))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		h := c.Writer.Header()
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Disposition", "Content-Encoding"} {
			h.Del(k)
		}
		jsonError(c, http.StatusInternalServerError, internalError)
	}()
	c.Next()
}

// Stand-ins, in an error answer, for the folders of this machine it would
// otherwise name (scrubErrorAnswers).
const (
	storeStandIn = "[store]"
	tmpStandIn   = "[tmp]"
)

// localPaths is a replacer of the folders an error answer must not name:
// the store's, when it is a folder (file://), and the temporary folder
// (where uploads are spooled), each by its stand-in. A gs:// store is
// named as it is: it is the API's configuration, not a path of this
// machine.
func (s *Server) localPaths() *strings.Replacer {
	var pairs []string
	if root, ok := strings.CutPrefix(s.store.URI(""), "file://"); ok && root != "" && root != "/" {
		root = strings.TrimSuffix(root, "/")
		pairs = append(pairs, "file://"+root, storeStandIn, root, storeStandIn)
		if native := filepath.FromSlash(root); native != root {
			pairs = append(pairs, native, storeStandIn)
		}
	}
	if tmp := strings.TrimSuffix(os.TempDir(), string(filepath.Separator)); tmp != "" {
		pairs = append(pairs, tmp+string(filepath.Separator), tmpStandIn+string(filepath.Separator))
	}
	return strings.NewReplacer(pairs...)
}

// scrubErrorAnswers rewrites the body of every 4xx and 5xx answer so that
// it names no folder of this machine (localPaths): the error of a failed
// store call (an os.PathError, a blob.UnavailableError) names the file
// it read. Successful answers pass untouched.
func (s *Server) scrubErrorAnswers() gin.HandlerFunc {
	r := s.localPaths()
	return func(c *gin.Context) {
		c.Writer = &scrubWriter{ResponseWriter: c.Writer, paths: r}
		c.Next()
	}
}

// scrubWriter is a gin.ResponseWriter that replaces local paths in the
// body of an error answer. Error answers are small JSON (or HTML) bodies
// written at once, so a path is never split across two writes.
type scrubWriter struct {
	gin.ResponseWriter
	paths *strings.Replacer
}

func (w *scrubWriter) Write(b []byte) (int, error) {
	if w.Status() < http.StatusBadRequest {
		return w.ResponseWriter.Write(b)
	}
	if _, err := w.ResponseWriter.WriteString(w.paths.Replace(string(b))); err != nil {
		return 0, fmt.Errorf("write the answer: %w", err)
	}
	return len(b), nil
}

func (w *scrubWriter) WriteString(s string) (int, error) {
	if w.Status() < http.StatusBadRequest {
		return w.ResponseWriter.WriteString(s)
	}
	if _, err := w.ResponseWriter.WriteString(w.paths.Replace(s)); err != nil {
		return 0, fmt.Errorf("write the answer: %w", err)
	}
	return len(s), nil
}
