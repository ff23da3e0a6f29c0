package blob

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
