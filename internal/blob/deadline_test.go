package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
)

// callBound is how long a call through a short deadline may take in these
// tests: generous, it only tells "returns" from "hangs".
const callBound = 20 * time.Second

// outageStore is a local store behind an Outage behind deadlines of d.
func outageStore(t *testing.T, d time.Duration) (*blob.DeadlineStore, *blobtest.Outage) {
	t.Helper()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := blobtest.NewOutage(local)
	t.Cleanup(o.Up) // releases any call still hanging
	return blob.WithDeadlines(o, d), o
}

// within runs f and fails the test if it does not return within callBound.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(callBound):
		t.Fatalf("%s still running after %s: the call hangs", what, callBound)
		return nil
	}
}

// storeCalls are every Store call, each on key "k/obj".
func storeCalls() map[string]func(ctx context.Context, s blob.Store) error {
	return map[string]func(ctx context.Context, s blob.Store) error{
		"Put": func(ctx context.Context, s blob.Store) error { return s.Put(ctx, "k/obj", strings.NewReader("x")) },
		"PutIfAbsent": func(ctx context.Context, s blob.Store) error {
			return s.PutIfAbsent(ctx, "k/obj", strings.NewReader("x"))
		},
		"PutIfGen": func(ctx context.Context, s blob.Store) error {
			return s.PutIfGen(ctx, "k/obj", strings.NewReader("x"), "")
		},
		"Get": func(ctx context.Context, s blob.Store) error {
			_, err := blob.GetBytes(ctx, s, "k/obj")
			return err
		},
		"GetGen":     func(ctx context.Context, s blob.Store) error { _, _, err := s.GetGen(ctx, "k/obj"); return err },
		"Generation": func(ctx context.Context, s blob.Store) error { _, err := s.Generation(ctx, "k/obj"); return err },
		"Exists":     func(ctx context.Context, s blob.Store) error { _, err := s.Exists(ctx, "k/obj"); return err },
		"List":       func(ctx context.Context, s blob.Store) error { _, err := s.List(ctx, "k/obj"); return err },
		"Delete":     func(ctx context.Context, s blob.Store) error { return s.Delete(ctx, "k/obj") },
	}
}

// TestDeadlinesTurnAnOutageIntoErrUnavailable: every call on a hanging or
// refusing store returns ErrUnavailable, naming the store, operation and
// key, instead of hanging.
func TestDeadlinesTurnAnOutageIntoErrUnavailable(t *testing.T) {
	for _, mode := range []blobtest.Mode{blobtest.Hang, blobtest.Refuse} {
		for name, call := range storeCalls() {
			t.Run(mode.String()+"/"+name, func(t *testing.T) {
				s, o := outageStore(t, 50*time.Millisecond)
				o.Down(mode)
				err := within(t, name, func() error { return call(context.Background(), s) })
				if !errors.Is(err, blob.ErrUnavailable) {
					t.Fatalf("err = %v, want ErrUnavailable", err)
				}
				if errors.Is(err, blob.ErrNotFound) {
					t.Errorf("err = %v also matches ErrNotFound", err)
				}
				var ue *blob.UnavailableError
				if !errors.As(err, &ue) || ue.Key != "k/obj" || ue.Store != strings.TrimSuffix(s.URI(""), "/") {
					t.Errorf("err = %#v, want an *UnavailableError for k/obj of %s", err, s.URI(""))
				}
				if msg := err.Error(); !strings.Contains(msg, "unavailable") || !strings.Contains(msg, "k/obj") {
					t.Errorf("message %q does not say unavailable and name the key", msg)
				}
				if mode == blobtest.Refuse && !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("err = %v, want the refused connection as its cause", err)
				}
				if o.Hits() == 0 {
					t.Error("the call never met the outage")
				}
			})
		}
	}
}

// TestDeadlinesKeepAnswers: what the store answers keeps its meaning, and a
// store that is back up works again.
func TestDeadlinesKeepAnswers(t *testing.T) {
	s, o := outageStore(t, time.Second)
	ctx := context.Background()
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("Get of a missing key: %v, want ErrNotFound only", err)
	}
	if err := s.PutIfAbsent(ctx, "a", strings.NewReader("1")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfAbsent(ctx, "a", strings.NewReader("2")); !errors.Is(err, blob.ErrExists) {
		t.Fatalf("second PutIfAbsent: %v, want ErrExists", err)
	}
	if err := s.PutIfGen(ctx, "a", strings.NewReader("3"), ""); !errors.Is(err, blob.ErrPrecondition) {
		t.Fatalf("PutIfGen on an existing object with gen \"\": %v, want ErrPrecondition", err)
	}
	o.Down(blobtest.Refuse)
	if _, err := s.Exists(ctx, "a"); !errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("Exists while down: %v", err)
	}
	o.Up()
	if ok, err := s.Exists(ctx, "a"); err != nil || !ok {
		t.Fatalf("Exists after Up: %v, %v", ok, err)
	}
}

// TestDeadlinesLeaveTheCallersCancelAlone: a caller that gives up gets its
// own context's error, not ErrUnavailable.
func TestDeadlinesLeaveTheCallersCancelAlone(t *testing.T) {
	s, o := outageStore(t, time.Hour)
	o.Down(blobtest.Hang)
	for name, call := range storeCalls() {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		err := within(t, name, func() error { return call(ctx, s) })
		if !errors.Is(err, context.Canceled) || errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("%s cancelled by its caller: %v, want context.Canceled only", name, err)
		}
	}
}

// TestDeadlinesBoundReadsOfAnOpenObject: an outage that starts while an
// object is being read fails the next Read with ErrUnavailable.
func TestDeadlinesBoundReadsOfAnOpenObject(t *testing.T) {
	s, o := outageStore(t, 50*time.Millisecond)
	ctx := context.Background()
	if err := blob.PutBytes(ctx, s, "big", bytes.Repeat([]byte("x"), 1<<16)); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 1024)
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatal(err)
	}
	o.Down(blobtest.Hang)
	err = within(t, "Read", func() error { _, err := io.ReadFull(rc, buf); return err })
	if !errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("Read during the outage: %v, want ErrUnavailable", err)
	}
}

// slowReader yields its content one byte per Read, sleeping before each.
type slowReader struct {
	data  []byte
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	p[0], r.data = r.data[0], r.data[1:]
	return 1, nil
}

// TestDeadlinesCountOnlyTheStoresTime: a producer slower than the deadline
// writes fine, and a consumer that waits longer than the deadline between
// Reads reads fine: only the store's silences are bounded.
func TestDeadlinesCountOnlyTheStoresTime(t *testing.T) {
	const d = 30 * time.Millisecond
	s, _ := outageStore(t, d)
	ctx := context.Background()
	if err := s.Put(ctx, "slow", &slowReader{data: []byte("abc"), pause: 3 * d}); err != nil {
		t.Fatalf("Put from a slow producer: %v", err)
	}
	rc, err := s.Get(ctx, "slow")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got []byte
	b := make([]byte, 1)
	for {
		time.Sleep(3 * d)
		n, err := rc.Read(b)
		got = append(got, b[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Read by a slow consumer: %v", err)
		}
	}
	if string(got) != "abc" {
		t.Fatalf("read back %q", got)
	}
}
