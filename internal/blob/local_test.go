package blob

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocal(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		dir := t.TempDir()
		s, err := NewLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { assertNoTempFiles(t, dir) })
		return s
	})
}

// assertNoTempFiles fails if any in-flight temp file was left behind.
func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLocalFilesLiveUnderDir(t *testing.T) {
	dir := t.TempDir()
	s, err := NewLocal(filepath.Join(dir, "new", "store"))
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "bars/AAPL.arrow", "data")
	b, err := os.ReadFile(filepath.Join(dir, "new", "store", "bars", "AAPL.arrow"))
	if err != nil || string(b) != "data" {
		t.Fatalf("file content %q, err %v", b, err)
	}
	want := "file://" + filepath.ToSlash(filepath.Join(dir, "new", "store", "bars", "AAPL.arrow"))
	if got := s.URI("bars/AAPL.arrow"); got != want {
		t.Fatalf("URI = %q, want %q", got, want)
	}
}

func TestLocalCancelledPut(t *testing.T) {
	dir := t.TempDir()
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, "k", strings.NewReader("x")); err == nil {
		t.Fatal("Put with cancelled context succeeded")
	}
	mustExist(t, s, "k", false)
	assertNoTempFiles(t, dir)
}

// TestLocalGenerationIsAStat: the generation of a file that has not
// changed comes from a stat, without reading it again; a file rewritten
// within the racy window (same size, same timestamp tick) is read again, so
// the rewrite is seen; an old file that is rewritten is seen too.
func TestLocalGenerationIsAStat(t *testing.T) {
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gen := func() string {
		t.Helper()
		g, err := s.Generation(ctx, "m.json")
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	mustPut(t, s, "m.json", "aaaa")
	young := gen()
	mustPut(t, s, "m.json", "bbbb") // within the racy window, same size
	if g := gen(); g == young || g != ContentHash([]byte("bbbb")) {
		t.Fatalf("generation after a same-size rewrite %s, want the new content's hash", g)
	}

	// An old file: hashed once, then answered from its stat.
	p := filepath.Join(s.Dir(), "m.json")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	first := gen()
	hashed := localHashes.Load()
	for range 5 {
		if g := gen(); g != first {
			t.Fatalf("generation %s, then %s, of an unchanged file", first, g)
		}
	}
	if n := localHashes.Load() - hashed; n != 0 {
		t.Fatalf("an unchanged old file was hashed %d more times, want 0 (a stat answers)", n)
	}
	mustPut(t, s, "m.json", "cccc")
	if g := gen(); g != ContentHash([]byte("cccc")) {
		t.Fatalf("generation after rewriting an old file %s, want the new content's hash", g)
	}
}
