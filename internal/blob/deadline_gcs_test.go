package blob

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestDeadlineStore runs the shared behaviours through the wrapper.
func TestDeadlineStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		l, err := NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return WithDeadlines(l, time.Second)
	})
}

// openDownGCS opens a gs:// store on endpoint with a short call timeout.
func openDownGCS(t *testing.T, endpoint string) Store {
	t.Helper()
	s, err := Open(context.Background(), "gs://"+testBucket+"/pre", WithEndpoint(endpoint), WithCallTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.(io.Closer).Close() })
	return s
}

// TestGCSOutagesAreErrUnavailable: through the real GCS client, a server
// that never answers, one that answers 503 and a port that refuses
// connections all make calls fail with ErrUnavailable within the call
// timeout (the client alone retries the last two until its context ends,
// and waits on the first forever).
func TestGCSOutagesAreErrUnavailable(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // the server notices a client that went away only after the body is read
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) }) // runs first
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"code":503,"message":"backend down"}}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String() // bare host:port: an emulator, over http
	ln.Close()

	for name, endpoint := range map[string]string{"hanging": hanging.URL, "503": failing.URL, "refused": refused} {
		s := openDownGCS(t, endpoint)
		calls := map[string]func(ctx context.Context) error{
			"List":       func(ctx context.Context) error { _, err := s.List(ctx, "registry/"); return err },
			"Get":        func(ctx context.Context) error { _, err := GetBytes(ctx, s, "registry/NFLX.json"); return err },
			"GetGen":     func(ctx context.Context) error { _, _, err := s.GetGen(ctx, "registry/NFLX.json"); return err },
			"Generation": func(ctx context.Context) error { _, err := s.Generation(ctx, "registry/NFLX.json"); return err },
			"Put":        func(ctx context.Context) error { return PutBytes(ctx, s, "runs/r/run.json", []byte("{}")) },
			"PutIfGen": func(ctx context.Context) error {
				return s.PutIfGen(ctx, "registry/NFLX.json", strings.NewReader("{}"), "")
			},
		}
		for call, f := range calls {
			t.Run(name+"/"+call, func(t *testing.T) {
				done := make(chan error, 1)
				go func() { done <- f(context.Background()) }()
				select {
				case err := <-done:
					t.Log(err)
					if !errors.Is(err, ErrUnavailable) {
						t.Fatalf("err = %v, want ErrUnavailable", err)
					}
					if !strings.Contains(err.Error(), "gs://"+testBucket+"/pre") {
						t.Errorf("error %q does not name the store", err)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("the call hangs")
				}
			})
		}
	}
}
