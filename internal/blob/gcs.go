package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// GCS is a Store backed by a Google Cloud Storage bucket, with all keys
// under an optional prefix.
type GCS struct {
	client     *storage.Client
	bucket     *storage.BucketHandle
	bucketName string
	prefix     string // without leading or trailing slash
	ownsClient bool   // Close closes the client (set by Open)
}

var _ Store = (*GCS)(nil)

// NewGCS returns a store for bucket/prefix using client. The caller keeps
// ownership of client.
func NewGCS(client *storage.Client, bucket, prefix string) *GCS {
	return &GCS{
		client:     client,
		bucket:     client.Bucket(bucket),
		bucketName: bucket,
		prefix:     strings.Trim(prefix, "/"),
	}
}

// Close closes the storage client if the store created it (Open); a store
// from NewGCS leaves the caller's client open.
func (g *GCS) Close() error {
	if !g.ownsClient {
		return nil
	}
	return g.client.Close()
}

func (g *GCS) objectName(key string) string {
	if g.prefix == "" {
		return key
	}
	return g.prefix + "/" + key
}

func (g *GCS) object(key string) (*storage.ObjectHandle, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	return g.bucket.Object(g.objectName(key)), nil
}

// Put uploads r; GCS makes the object visible only once the upload completes.
func (g *GCS) Put(ctx context.Context, key string, r io.Reader) error {
	obj, err := g.object(key)
	if err != nil {
		return err
	}
	if err := upload(ctx, obj, r); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// PutIfAbsent uploads r with a does-not-exist precondition.
func (g *GCS) PutIfAbsent(ctx context.Context, key string, r io.Reader) error {
	obj, err := g.object(key)
	if err != nil {
		return err
	}
	err = upload(ctx, obj.If(storage.Conditions{DoesNotExist: true}), r)
	if isPreconditionFailed(err) {
		return fmt.Errorf("put %s: %w", key, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// upload copies r into a new writer for obj. The writer holds at most one
// chunk (the library's 16 MiB default) and sends a larger object as a
// resumable upload, so memory does not grow with the object; GCS makes the
// object visible only when the upload is finalized, and Close reports
// whether it was.
//
// If the copy fails, the upload is aborted so that no object is created:
// the writer's context is cancelled and the upload pipe is closed with the
// error. Cancelling alone is not enough, because the writer notices it in a
// background goroutine that can lose the race against Close, and transports
// that ignore the context (the in-process emulator) would then commit the
// partial object.
func upload(ctx context.Context, obj *storage.ObjectHandle, r io.Reader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := obj.NewWriter(ctx)
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		_ = w.CloseWithError(err) //nolint:staticcheck // synchronous abort; see above.
		_ = w.Close()             // waits for the upload goroutine to finish.
		return err
	}
	return w.Close()
}

func isPreconditionFailed(err error) bool {
	if err == nil {
		return false
	}
	var gerr *googleapi.Error
	if errors.As(err, &gerr) && gerr.Code == http.StatusPreconditionFailed {
		return true
	}
	return status.Code(err) == codes.FailedPrecondition
}

// Get opens the object for streaming reads.
func (g *GCS) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := g.object(key)
	if err != nil {
		return nil, err
	}
	rc, err := obj.NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return rc, nil
}

// Exists reports whether the object exists.
func (g *GCS) Exists(ctx context.Context, key string) (bool, error) {
	obj, err := g.object(key)
	if err != nil {
		return false, err
	}
	_, err = obj.Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("exists %s: %w", key, err)
	}
	return true, nil
}

// List returns the keys under prefix, sorted.
func (g *GCS) List(ctx context.Context, prefix string) ([]string, error) {
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	full := g.objectName(prefix)
	q := &storage.Query{Prefix: full}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	strip := len(full) - len(prefix)
	var keys []string
	it := g.bucket.Objects(ctx, q)
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", prefix, err)
		}
		keys = append(keys, attrs.Name[strip:])
	}
	sort.Strings(keys)
	return keys, nil
}

// Delete removes the object; a missing key is not an error.
func (g *GCS) Delete(ctx context.Context, key string) error {
	obj, err := g.object(key)
	if err != nil {
		return err
	}
	if err := obj.Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// URI returns gs://bucket/prefix/key.
func (g *GCS) URI(key string) string {
	return "gs://" + g.bucketName + "/" + g.objectName(key)
}
