package blob

import (
	"context"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

const testBucket = "finsight-test"

// newFakeGCS starts an in-process fake GCS server with an empty bucket.
func newFakeGCS(t *testing.T, listen bool) *fakestorage.Server {
	t.Helper()
	return newFakeGCSBucket(t, listen, false)
}

// newFakeGCSBucket is newFakeGCS with a choice of Object Versioning.
func newFakeGCSBucket(t *testing.T, listen, versioned bool) *fakestorage.Server {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener: !listen,
		Scheme:     "http",
		Host:       "127.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: testBucket, VersioningEnabled: versioned})
	return srv
}

func TestGCS(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		return NewGCS(newFakeGCS(t, false).Client(), testBucket, "runs/r1/")
	})
}

// TestGCSVersionedBucket: with Object Versioning on (as the README
// recommends), overwrites keep the old generation as a noncurrent version,
// and the preconditions still compare against the live one.
func TestGCSVersionedBucket(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		return NewGCS(newFakeGCSBucket(t, false, true).Client(), testBucket, "v")
	})
}

func TestGCSKeysLiveUnderPrefix(t *testing.T) {
	srv := newFakeGCS(t, false)
	s := NewGCS(srv.Client(), testBucket, "/runs/r1/")
	mustPut(t, s, "bars/AAPL.arrow", "data")
	obj, err := srv.GetObject(testBucket, "runs/r1/bars/AAPL.arrow")
	if err != nil {
		t.Fatal(err)
	}
	if string(obj.Content) != "data" {
		t.Fatalf("object content %q", obj.Content)
	}
	if got, want := s.URI("bars/AAPL.arrow"), "gs://finsight-test/runs/r1/bars/AAPL.arrow"; got != want {
		t.Fatalf("URI = %q, want %q", got, want)
	}
	// An object outside the prefix is invisible to the store.
	srv.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: testBucket, Name: "runs/r2/bars/X"},
		Content:     []byte("x"),
	})
	assertKeys(t, s, "", []string{"bars/AAPL.arrow"})
}

func TestOpenGCSWithEndpoint(t *testing.T) {
	srv := newFakeGCS(t, true)
	s, err := Open(context.Background(), "gs://"+testBucket+"/pre", WithEndpoint(srv.URL()+"/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.(interface{ Close() error }).Close()
	mustPut(t, s, "k.txt", "hello")
	if got := mustGet(t, s, "k.txt"); got != "hello" {
		t.Fatalf("got %q", got)
	}
	if _, err := srv.GetObject(testBucket, "pre/k.txt"); err != nil {
		t.Fatalf("object not under prefix: %v", err)
	}
}
