package blobtest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
)

const proxyBucket = "b"

// openBehindProxy starts a fake GCS server on a port, a FaultProxy in
// front of it, and opens gs://b/p through the proxy as the worker opens a
// bucket (blob.Open with an endpoint: the real GCS client, its retries,
// and blob's deadlines and classification).
func openBehindProxy(t *testing.T, callTimeout time.Duration) (blob.Store, *blobtest.FaultProxy) {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: proxyBucket})
	proxy, err := blobtest.NewFaultProxy(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	s, err := blob.Open(context.Background(), "gs://"+proxyBucket+"/p", blob.WithEndpoint(proxy.URL), blob.WithCallTimeout(callTimeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.(io.Closer).Close() })
	return s, proxy
}

// statuses lists the statuses the proxy answered.
func statuses(p *blobtest.FaultProxy) []int {
	var out []int
	for _, f := range p.Faulted() {
		out = append(out, f.Status)
	}
	return out
}

// TestGCSBurstsOf503And429: a burst of 503s and 429s is weathered by the
// GCS client's own retries where a call may be repeated (a read, a
// create-if-absent); a write without a precondition is not repeated by the
// client and fails with ErrUnavailable, which the activities' retry policy
// retries, and leaves no object; a burst longer than the call timeout
// ends in ErrUnavailable naming the store.
func TestGCSBurstsOf503And429(t *testing.T) {
	ctx := context.Background()
	s, proxy := openBehindProxy(t, 20*time.Second)
	content := bytes.Repeat([]byte("bars "), 2000)

	proxy.Fail(blobtest.Uploads("p/data/derived/"), http.StatusServiceUnavailable, http.StatusTooManyRequests)
	if err := s.PutIfAbsent(ctx, "data/derived/a.arrow", bytes.NewReader(content)); err != nil {
		t.Fatalf("create-if-absent through a 503, 429 burst: %v", err)
	}
	proxy.Fail(blobtest.Reads("p/data/derived/a.arrow"), http.StatusTooManyRequests, http.StatusServiceUnavailable)
	got, err := blob.GetBytes(ctx, s, "data/derived/a.arrow")
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("read through a 429, 503 burst: %d bytes, %v", len(got), err)
	}
	if got := statuses(proxy); len(got) != 4 || proxy.Pending() != 0 {
		t.Fatalf("the proxy answered %v, want the 4 errors of both bursts", got)
	}

	proxy.Fail(blobtest.Uploads("p/runs/"), http.StatusServiceUnavailable)
	err = blob.PutBytes(ctx, s, "runs/r/run.json", []byte("{}"))
	if !errors.Is(err, blob.ErrUnavailable) || !strings.Contains(err.Error(), "gs://"+proxyBucket+"/p") {
		t.Fatalf("a plain write answered 503: %v, want ErrUnavailable naming the store", err)
	}
	if _, _, refused := blob.Refused(err); refused {
		t.Fatalf("a 503 is classified as a refusal: %v", err)
	}
	assertWholeOrMissing(t, s, "runs/r/run.json", nil)
	if err := blob.PutBytes(ctx, s, "runs/r/run.json", []byte("{}")); err != nil {
		t.Fatalf("the write again, after the burst: %v", err)
	}

	short, proxy2 := openBehindProxy(t, 1500*time.Millisecond)
	storm := make([]int, 50)
	for i := range storm {
		storm[i] = []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}[i%2]
	}
	proxy2.Fail(blobtest.Uploads("p/"), storm...)
	err = short.PutIfAbsent(ctx, "data/derived/b.arrow", bytes.NewReader(content))
	if !errors.Is(err, blob.ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 1.5s") {
		t.Fatalf("a storm of 503s and 429s longer than the call timeout: %v, want ErrUnavailable", err)
	}
	assertWholeOrMissing(t, short, "data/derived/b.arrow", nil)
}

// TestGCS412StormOnAManifest: a proxy answering 412 to the manifest's
// conditional uploads, as GCS does when another writer changed it first:
// ReadModifyWrite retries and applies its change once; a storm longer than
// its attempts ends in a retryable ErrPrecondition that says so.
func TestGCS412StormOnAManifest(t *testing.T) {
	ctx := context.Background()
	s, proxy := openBehindProxy(t, 10*time.Second)
	appendX := func(cur []byte, _ bool) ([]byte, bool, error) { return append(cur, 'x'), true, nil }
	storm := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = http.StatusPreconditionFailed
		}
		return out
	}
	proxy.Fail(blobtest.Uploads("p/registry/T.json"), storm(6)...)
	if err := blob.ReadModifyWrite(ctx, s, "registry/T.json", appendX); err != nil {
		t.Fatalf("through 6 lost races: %v", err)
	}
	if got := statuses(proxy); len(got) != 6 {
		t.Fatalf("the proxy answered %v, want 6 × 412", got)
	}
	assertWholeOrMissing(t, s, "registry/T.json", []byte("x"))

	proxy.Fail(blobtest.Uploads("p/registry/T.json"), storm(60)...)
	err := blob.ReadModifyWrite(ctx, s, "registry/T.json", appendX)
	if !errors.Is(err, blob.ErrPrecondition) || errors.Is(err, blob.ErrUnavailable) || !strings.Contains(err.Error(), "lost 50 races") {
		t.Fatalf("an endless 412 storm: %v, want ErrPrecondition saying it lost 50 races", err)
	}
	assertWholeOrMissing(t, s, "registry/T.json", []byte("x"))
}

// TestGCS403IsARefusal: a bucket that forbids the write (403) is a refusal
// (RefusedDenied), not an outage: no retry would help.
func TestGCS403IsARefusal(t *testing.T) {
	ctx := context.Background()
	s, proxy := openBehindProxy(t, 10*time.Second)
	proxy.Fail(blobtest.Uploads("p/data/"), http.StatusForbidden)
	err := s.PutIfAbsent(ctx, "data/derived/a.arrow", strings.NewReader("bars"))
	why, _, ok := blob.Refused(err)
	if !ok || why != blob.RefusedDenied || errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("a 403: %v (refused %v %q), want RefusedDenied", err, ok, why)
	}
	assertWholeOrMissing(t, s, "data/derived/a.arrow", nil)
}
