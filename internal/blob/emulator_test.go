package blob

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestGCSThroughEndpoint runs the shared behaviours against a fake GCS
// server over HTTP, through Open with WithEndpoint: the path the worker,
// API and starter take with an emulator.
func TestGCSThroughEndpoint(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		srv := newFakeGCS(t, true)
		s, err := Open(context.Background(), "gs://"+testBucket+"/pre", WithEndpoint(srv.URL()+"/storage/v1/"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.(io.Closer).Close() })
		return s
	})
}

// TestGCSThroughEmulatorHost is the same through STORAGE_EMULATOR_HOST.
func TestGCSThroughEmulatorHost(t *testing.T) {
	srv := newFakeGCS(t, true)
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("STORAGE_EMULATOR_HOST", u.Host)
	s, err := Open(context.Background(), "gs://"+testBucket+"/pre")
	if err != nil {
		t.Fatal(err)
	}
	defer s.(io.Closer).Close()
	mustPut(t, s, "k.txt", "hello")
	if got := mustGet(t, s, "k.txt"); got != "hello" {
		t.Fatalf("got %q", got)
	}
	if err := putIfGen(s, "m.json", "one", ""); err != nil {
		t.Fatal(err)
	}
	if _, gen := mustGetGen(t, s, "m.json"); putIfGen(s, "m.json", "two", gen) != nil {
		t.Fatal("update with the current generation failed")
	}
}

// TestGCSEndpointForms: each accepted form of FINSIGHT_GCS_ENDPOINT reaches
// the emulator. The bare host:port form used to be sent over https and
// fail with "server gave HTTP response to HTTPS client".
func TestGCSEndpointForms(t *testing.T) {
	srv := newFakeGCS(t, true)
	hostPort := strings.TrimPrefix(srv.URL(), "http://")
	for _, endpoint := range []string{
		srv.URL(),
		srv.URL() + "/",
		srv.URL() + "/storage/v1",
		srv.URL() + "/storage/v1/",
		hostPort,
		hostPort + "/storage/v1/",
	} {
		t.Run(endpoint, func(t *testing.T) {
			s, err := Open(context.Background(), "gs://"+testBucket+"/forms", WithEndpoint(endpoint), WithCallTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer s.(io.Closer).Close()
			mustPut(t, s, "k.txt", endpoint)
			if got := mustGet(t, s, "k.txt"); got != endpoint {
				t.Fatalf("got %q", got)
			}
		})
	}
}
