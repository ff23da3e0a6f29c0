package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// storeFactory returns a fresh, empty store for one subtest.
type storeFactory func(t *testing.T) Store

// storeCase is one behaviour, run on a fresh store.
type storeCase struct {
	name string
	run  func(t *testing.T, s Store)
}

// testStore runs the behaviours every Store must have.
func testStore(t *testing.T, newStore storeFactory) {
	tests := []storeCase{
		{"RoundTrip", testRoundTrip},
		{"NotFound", testNotFound},
		{"PutIfAbsentTwice", testPutIfAbsentTwice},
		{"ListSortedWithPrefix", testListSortedWithPrefix},
		{"InvalidKeysRejected", testInvalidKeysRejected},
		{"FailedPutLeavesNoObject", testFailedPutLeavesNoObject},
		{"FailedPutKeepsOldObject", testFailedPutKeepsOldObject},
		{"JSONRoundTrip", testJSONRoundTrip},
	}
	for _, tc := range append(tests, casCases()...) {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

func mustPut(t *testing.T, s Store, key, content string) {
	t.Helper()
	if err := PutBytes(context.Background(), s, key, []byte(content)); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func mustGet(t *testing.T, s Store, key string) string {
	t.Helper()
	b, err := GetBytes(context.Background(), s, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return string(b)
}

func mustExist(t *testing.T, s Store, key string, want bool) {
	t.Helper()
	got, err := s.Exists(context.Background(), key)
	if err != nil {
		t.Fatalf("exists %s: %v", key, err)
	}
	if got != want {
		t.Fatalf("exists %s = %v, want %v", key, got, want)
	}
}

func testRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	mustExist(t, s, "a/b/c.txt", false)
	mustPut(t, s, "a/b/c.txt", "first")
	mustExist(t, s, "a/b/c.txt", true)
	if got := mustGet(t, s, "a/b/c.txt"); got != "first" {
		t.Fatalf("got %q, want %q", got, "first")
	}
	mustPut(t, s, "a/b/c.txt", "second, longer")
	if got := mustGet(t, s, "a/b/c.txt"); got != "second, longer" {
		t.Fatalf("after overwrite got %q", got)
	}
	if err := s.Delete(ctx, "a/b/c.txt"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	mustExist(t, s, "a/b/c.txt", false)
	if err := s.Delete(ctx, "a/b/c.txt"); err != nil {
		t.Fatalf("delete missing key: %v", err)
	}
	if !strings.HasSuffix(s.URI("a/b/c.txt"), "/a/b/c.txt") {
		t.Fatalf("URI %q does not end in the key", s.URI("a/b/c.txt"))
	}
}

func testNotFound(t *testing.T, s Store) {
	_, err := s.Get(context.Background(), "missing/key.bin")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "missing/key.bin") {
		t.Fatalf("error %q does not name the key", err)
	}
}

func testPutIfAbsentTwice(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.PutIfAbsent(ctx, "lock/run-1", strings.NewReader("one")); err != nil {
		t.Fatalf("first PutIfAbsent: %v", err)
	}
	err := s.PutIfAbsent(ctx, "lock/run-1", strings.NewReader("two"))
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second PutIfAbsent err = %v, want ErrExists", err)
	}
	if got := mustGet(t, s, "lock/run-1"); got != "one" {
		t.Fatalf("content changed to %q", got)
	}
	assertKeys(t, s, "", []string{"lock/run-1"})
}

func assertKeys(t *testing.T, s Store, prefix string, want []string) {
	t.Helper()
	got, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("list %q = %q, want %q", prefix, got, want)
	}
}

func testListSortedWithPrefix(t *testing.T, s Store) {
	for _, k := range []string{"b/2", "a/10", "ab", "a/1", "a-x", "a/sub/z"} {
		mustPut(t, s, k, k)
	}
	assertKeys(t, s, "a/", []string{"a/1", "a/10", "a/sub/z"})
	assertKeys(t, s, "a/1", []string{"a/1", "a/10"})
	assertKeys(t, s, "a", []string{"a-x", "a/1", "a/10", "a/sub/z", "ab"})
	assertKeys(t, s, "", []string{"a-x", "a/1", "a/10", "a/sub/z", "ab", "b/2"})
	assertKeys(t, s, "zz/", nil)
}

func testInvalidKeysRejected(t *testing.T, s Store) {
	ctx := context.Background()
	bad := []string{"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", `a\b`, "a\x00b", ".blobtmp-1", "x/.bloblock-m.json"}
	for _, key := range bad {
		if err := s.Put(ctx, key, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
		if err := s.PutIfAbsent(ctx, key, strings.NewReader("x")); err == nil {
			t.Errorf("PutIfAbsent(%q) succeeded", key)
		}
		if _, err := s.Get(ctx, key); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) err = %v, want a validation error", key, err)
		}
		if _, _, err := s.GetGen(ctx, key); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("GetGen(%q) err = %v, want a validation error", key, err)
		}
		if _, err := s.Generation(ctx, key); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Generation(%q) err = %v, want a validation error", key, err)
		}
		if err := s.PutIfGen(ctx, key, strings.NewReader("x"), ""); err == nil {
			t.Errorf("PutIfGen(%q) succeeded", key)
		}
		if _, err := s.Exists(ctx, key); err == nil {
			t.Errorf("Exists(%q) succeeded", key)
		}
		if err := s.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q) succeeded", key)
		}
	}
	if _, err := s.List(ctx, "../"); err == nil {
		t.Error(`List("../") succeeded`)
	}
	assertKeys(t, s, "", nil)
}

// failingReader yields n bytes and then fails.
type failingReader struct{ n int }

var errReaderBroke = errors.New("reader broke")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errReaderBroke
	}
	n := min(len(p), f.n)
	for i := range n {
		p[i] = 'x'
	}
	f.n -= n
	return n, nil
}

func testFailedPutLeavesNoObject(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.Put(ctx, "half/put", &failingReader{n: 1000}); !errors.Is(err, errReaderBroke) {
		t.Fatalf("Put err = %v, want the reader's error", err)
	}
	if err := s.PutIfAbsent(ctx, "half/put", &failingReader{n: 1000}); !errors.Is(err, errReaderBroke) {
		t.Fatalf("PutIfAbsent err = %v, want the reader's error", err)
	}
	mustExist(t, s, "half/put", false)
	assertKeys(t, s, "", nil)
}

func testFailedPutKeepsOldObject(t *testing.T, s Store) {
	mustPut(t, s, "model.bin", "old")
	if err := s.Put(context.Background(), "model.bin", &failingReader{n: 10}); err == nil {
		t.Fatal("Put with failing reader succeeded")
	}
	if got := mustGet(t, s, "model.bin"); got != "old" {
		t.Fatalf("content = %q, want the old object", got)
	}
}

func testJSONRoundTrip(t *testing.T, s Store) {
	type meta struct {
		Ticker string
		Rows   int
	}
	ctx := context.Background()
	if err := PutJSON(ctx, s, "meta.json", meta{"AAPL", 42}); err != nil {
		t.Fatal(err)
	}
	var got meta
	if err := GetJSON(ctx, s, "meta.json", &got); err != nil {
		t.Fatal(err)
	}
	if got != (meta{"AAPL", 42}) {
		t.Fatalf("got %+v", got)
	}
	var into meta
	if err := GetJSON(ctx, s, "nope.json", &into); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetJSON missing err = %v", err)
	}
}

func TestGetStreamsLargeObject(t *testing.T) {
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789"), 1<<16)
	if err := s.Put(context.Background(), "big", bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, err %v; want %d bytes", len(got), err, len(want))
	}
}
