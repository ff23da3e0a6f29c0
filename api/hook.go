package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// Limits of POST /hooks/gcs.
const (
	// hookMaxBody caps a push request. A Cloud Storage notification is a few
	// KiB (the object resource, base64 encoded, plus attributes).
	hookMaxBody = 1 << 20
	// hookStartTimeout bounds the start of the inbox scan, well inside
	// Pub/Sub's default 10 s acknowledgement deadline.
	hookStartTimeout = 5 * time.Second
	// hookRetryAfter is the Retry-After (seconds) of a 503.
	hookRetryAfter = 10
	// hookWorkflowIDPrefix starts the id of every scan the hook starts.
	hookWorkflowIDPrefix = "inbox-hook-"
)

// eventFinalize is the Cloud Storage notification event of a new object (or
// a new generation of one); the others (OBJECT_METADATA_UPDATE,
// OBJECT_DELETE, OBJECT_ARCHIVE) are acknowledged and ignored.
const eventFinalize = "OBJECT_FINALIZE"

// WorkflowStarter is what the GCS hook needs of a Temporal client
// (client.Client satisfies it).
type WorkflowStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow interface{}, args ...interface{}) (client.WorkflowRun, error)
}

// HookConfig configures POST /hooks/gcs, the Pub/Sub push endpoint of the
// store bucket's Cloud Storage notifications.
type HookConfig struct {
	// Token is the shared secret a push request carries as ?token=.
	Token string
	// Bucket and Prefix locate the store: gs://Bucket/Prefix. Only objects
	// of Bucket under Prefix/inbox/ start a scan.
	Bucket string
	Prefix string
	// TaskQueue is where the inbox scan runs.
	TaskQueue string
	// Starter starts the scan.
	Starter WorkflowStarter
}

// gcsHook is an enabled POST /hooks/gcs.
type gcsHook struct {
	tokenSum [sha256.Size]byte // of the configured token, compared in constant time
	bucket   string
	prefix   string // without leading or trailing slash
	queue    string
	starter  WorkflowStarter
}

// EnableGCSHook turns on POST /hooks/gcs: a Cloud Storage OBJECT_FINALIZE
// notification, pushed by Pub/Sub, of a CSV in the store's inbox/<TICKER>/
// starts an InboxScan of that object. Call it before Handler. Without it the
// route answers 404.
func (s *Server) EnableGCSHook(cfg HookConfig) error {
	switch {
	case cfg.Token == "":
		return errors.New("enable gcs hook: empty token")
	case cfg.Bucket == "":
		return errors.New("enable gcs hook: empty bucket")
	case cfg.TaskQueue == "":
		return errors.New("enable gcs hook: empty task queue")
	case cfg.Starter == nil:
		return errors.New("enable gcs hook: no workflow starter")
	}
	s.hook = &gcsHook{
		tokenSum: sha256.Sum256([]byte(cfg.Token)),
		bucket:   cfg.Bucket,
		prefix:   strings.Trim(cfg.Prefix, "/"),
		queue:    cfg.TaskQueue,
		starter:  cfg.Starter,
	}
	return nil
}

// gcsHookHandler answers POST /hooks/gcs. Every answer is JSON. A 2xx
// acknowledges the message (Pub/Sub redelivers anything else), so events the
// hook does not act on are acknowledged as ignored, and only a failure to
// start the scan asks for redelivery (503).
func (s *Server) gcsHookHandler(c *gin.Context) {
	h := s.hook
	if h == nil {
		jsonError(c, http.StatusNotFound, "the GCS hook is not configured: set FINSIGHT_HOOK_TOKEN and a gs:// store")
		return
	}
	if status, msg := h.checkToken(c.Query("token")); status != 0 {
		jsonError(c, status, msg)
		return
	}
	n, status, err := readPush(c)
	if err != nil {
		jsonError(c, status, err.Error())
		return
	}
	if n.Bucket != h.bucket {
		jsonError(c, http.StatusForbidden, fmt.Sprintf("foreign bucket %q: this hook serves gs://%s", n.Bucket, h.bucket))
		return
	}
	if n.Event != eventFinalize {
		ignore(c, n, "event "+n.Event+" is not "+eventFinalize)
		return
	}
	key, why := h.inboxKey(n.Object)
	if why != "" {
		ignore(c, n, why)
		return
	}
	if n.Generation == "" {
		jsonError(c, http.StatusBadRequest, "notification without "+attrGeneration+": cannot tell a redelivery from a new upload")
		return
	}
	id := hookWorkflowID(n.Object, n.Generation)
	runID, err := h.start(c.Request.Context(), id, key)
	if err != nil {
		slog.Error("gcs hook: start inbox scan", "object", n.Object, "workflow_id", id, "err", err)
		c.Header("Retry-After", strconv.Itoa(hookRetryAfter))
		jsonError(c, http.StatusServiceUnavailable, err.Error())
		return
	}
	slog.Info("gcs hook: inbox scan", "object", n.Object, "generation", n.Generation, "key", key, "workflow_id", id, "run_id", runID)
	c.JSON(http.StatusAccepted, gin.H{"started": id, "run_id": runID, "key": key})
}

// checkToken compares the request's token with the configured one in
// constant time (of hashes, so neither length leaks). It returns 0 when
// they match.
func (h *gcsHook) checkToken(got string) (int, string) {
	if got == "" {
		return http.StatusUnauthorized, "missing ?token="
	}
	sum := sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) != 1 {
		return http.StatusForbidden, "wrong token"
	}
	return 0, ""
}

// readPush reads and parses the request body, with the HTTP status of its
// error.
func readPush(c *gin.Context) (notification, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, hookMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return notification{}, http.StatusRequestEntityTooLarge, fmt.Errorf("push request over %d bytes", tooBig.Limit)
		}
		return notification{}, http.StatusBadRequest, fmt.Errorf("read push request: %w", err)
	}
	n, err := parsePush(body)
	if err != nil {
		return notification{}, http.StatusBadRequest, err
	}
	return n, 0, nil
}

// ignore acknowledges a notification the hook does not act on.
func ignore(c *gin.Context, n notification, why string) {
	slog.Info("gcs hook: ignored", "object", n.Object, "event", n.Event, "why", why)
	c.JSON(http.StatusOK, gin.H{"ignored": why, "object": n.Object})
}

// inboxKey maps an object name to its store key when it is a CSV dropped in
// the store's inbox/<TICKER>/ (the folder's files only, not its subfolders
// such as rejected/ or processed/). Otherwise it says why not.
func (h *gcsHook) inboxKey(object string) (key, why string) {
	key = object
	if h.prefix != "" {
		var ok bool
		if key, ok = strings.CutPrefix(object, h.prefix+"/"); !ok {
			return "", fmt.Sprintf("object is outside the store prefix %s/", h.prefix)
		}
	}
	rest, ok := strings.CutPrefix(key, pipeline.InboxPrefix)
	if !ok {
		return "", "object is outside " + pipeline.InboxPrefix
	}
	folder, file, ok := strings.Cut(rest, "/")
	switch {
	case !ok:
		return "", "object is not in an " + pipeline.InboxPrefix + "<TICKER>/ folder"
	case strings.Contains(file, "/"):
		return "", "object is in a subfolder of " + pipeline.InboxPrefix + folder + "/ (such as rejected/ or processed/)"
	case isInboxSubfolder(folder):
		return "", "object is in " + pipeline.InboxPrefix + folder + "/"
	case !strings.HasSuffix(strings.ToLower(file), ".csv") || len(file) == len(".csv"):
		return "", "object is not a .csv file"
	}
	if _, err := pipeline.NormalizeTicker(folder); err != nil {
		return "", fmt.Sprintf("folder %q does not name a ticker", folder)
	}
	if err := blob.ValidateKey(key); err != nil {
		return "", err.Error()
	}
	return key, ""
}

// isInboxSubfolder reports whether an inbox folder holds handled files
// rather than a ticker's new ones.
func isInboxSubfolder(folder string) bool {
	switch strings.ToLower(folder) {
	case "rejected", "processed":
		return true
	}
	return false
}

// hookWorkflowID names the scan of one generation of one object, so a
// redelivered notification finds the scan it already started.
func hookWorkflowID(object, generation string) string {
	sum := sha256.Sum256([]byte(object + "#" + generation))
	return hookWorkflowIDPrefix + hex.EncodeToString(sum[:])[:16]
}

// start starts the InboxScan of key under id, or finds the one already
// started under it (a redelivery). A scan that failed may run again; one
// that completed is not repeated.
func (h *gcsHook) start(ctx context.Context, id, key string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, hookStartTimeout)
	defer cancel()
	opts := client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                h.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
	}
	run, err := h.starter.ExecuteWorkflow(ctx, opts, pipeline.InboxWorkflow, pipeline.InboxInput{Keys: []string{key}})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		return started.RunId, nil // completed earlier: the object was scanned
	case err != nil:
		return "", fmt.Errorf("start %s %s for %s: %w", pipeline.InboxWorkflow, id, key, err)
	case run == nil:
		return "", nil
	}
	return run.GetRunID(), nil
}
