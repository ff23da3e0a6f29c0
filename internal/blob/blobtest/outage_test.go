package blobtest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
)

func newOutage(t *testing.T) *blobtest.Outage {
	t.Helper()
	s, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := blob.PutBytes(context.Background(), s, "k", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	o := blobtest.NewOutage(s)
	t.Cleanup(o.Up)
	return o
}

// TestOutageHangsUntilTheContextEnds: a hanging call returns only with its
// context's error.
func TestOutageHangsUntilTheContextEnds(t *testing.T) {
	o := newOutage(t)
	o.Down(blobtest.Hang)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := o.Exists(ctx, "k")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Exists on a hanging store: %v, want the context's deadline", err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("returned before its context ended")
	}
	if o.Hits() != 1 {
		t.Fatalf("Hits = %d, want 1", o.Hits())
	}
}

// TestOutageUpReleasesHangingCalls: a call hanging when the store comes
// back goes through.
func TestOutageUpReleasesHangingCalls(t *testing.T) {
	o := newOutage(t)
	o.Down(blobtest.Hang)
	got := make(chan string, 1)
	go func() {
		b, err := blob.GetBytes(context.Background(), o, "k")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	}()
	for o.Hits() == 0 {
		time.Sleep(time.Millisecond)
	}
	o.Up()
	select {
	case s := <-got:
		if s != "hello" {
			t.Fatalf("got %q after Up", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call still hangs after Up")
	}
}

// TestOutageRefuses: a refused call fails after the delay with a refused
// connection, which blob.WithDeadlines reports as ErrUnavailable.
func TestOutageRefuses(t *testing.T) {
	o := newOutage(t)
	o.SetRefuseDelay(20 * time.Millisecond)
	o.Down(blobtest.Refuse)
	start := time.Now()
	err := o.Put(context.Background(), "k2", strings.NewReader("x"))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Put on a refusing store: %v, want ECONNREFUSED", err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("refused before the delay")
	}
	if _, err := blob.WithDeadlines(o, time.Second).List(context.Background(), ""); !errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("List through deadlines: %v, want ErrUnavailable", err)
	}
	o.Up()
	if ok, err := o.Exists(context.Background(), "k2"); err != nil || ok {
		t.Fatalf("after Up: k2 exists=%v err=%v; the refused Put must not have written", ok, err)
	}
}

// TestOutageReadsOfAnOpenObject: a reader opened before the outage meets it.
func TestOutageReadsOfAnOpenObject(t *testing.T) {
	o := newOutage(t)
	rc, err := o.Get(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	o.Down(blobtest.Refuse)
	if _, err := io.ReadAll(rc); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Read during the outage: %v, want ECONNREFUSED", err)
	}
}

// TestOutageWindow: DownFor comes back by itself, and an earlier window
// does not end a later outage.
func TestOutageWindow(t *testing.T) {
	o := newOutage(t)
	o.DownFor(blobtest.Refuse, 30*time.Millisecond)
	if !o.IsDown() {
		t.Fatal("not down after DownFor")
	}
	deadline := time.Now().Add(10 * time.Second)
	for o.IsDown() {
		if time.Now().After(deadline) {
			t.Fatal("still down 10 s after a 30 ms window")
		}
		time.Sleep(5 * time.Millisecond)
	}
	o.DownFor(blobtest.Hang, 20*time.Millisecond)
	o.Down(blobtest.Refuse) // until Up: the window's end must not apply
	time.Sleep(100 * time.Millisecond)
	if !o.IsDown() {
		t.Fatal("an earlier window brought a later outage up")
	}
}

// TestOutageConcurrentUse: calls from many goroutines while the store goes
// down and up (run with -race).
func TestOutageConcurrentUse(t *testing.T) {
	o := newOutage(t)
	s := blob.WithDeadlines(o, 20*time.Millisecond)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := blob.GetBytes(context.Background(), s, "k")
				if err != nil && !errors.Is(err, blob.ErrUnavailable) {
					t.Errorf("GetBytes: %v", err)
					return
				}
			}
		}()
	}
	for i := range 20 {
		if i%2 == 0 {
			o.Down(blobtest.Mode(1 + i/2%2))
		} else {
			o.Up()
		}
		time.Sleep(5 * time.Millisecond)
	}
	o.Up()
	close(stop)
	wg.Wait()
	if o.Hits() == 0 {
		t.Fatal("no call met the outage")
	}
}
