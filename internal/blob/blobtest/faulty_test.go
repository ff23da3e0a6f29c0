package blobtest_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
)

// backend is a fresh store plus a check that nothing but objects (and lock
// files) lies in it.
type backend struct {
	name string
	open func(t *testing.T) (blob.Store, func(t *testing.T))
}

func backends() []backend {
	return []backend{
		{"Local", func(t *testing.T) (blob.Store, func(t *testing.T)) {
			dir := t.TempDir()
			s, err := blob.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			return s, func(t *testing.T) { assertOnlyObjectFiles(t, s, dir) }
		}},
		{"GCS", func(t *testing.T) (blob.Store, func(t *testing.T)) {
			srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Stop)
			srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "b"})
			return blob.NewGCS(srv.Client(), "b", "p"), func(*testing.T) {}
		}},
	}
}

// assertOnlyObjectFiles fails if the store's folder holds a file that is
// neither a listed object nor a lock file: a temp file left half-written.
func assertOnlyObjectFiles(t *testing.T, s blob.Store, dir string) {
	t.Helper()
	keys, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".bloblock-") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if !slices.Contains(keys, filepath.ToSlash(rel)) {
			t.Errorf("stray file in the store: %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func content(name string) []byte { return bytes.Repeat([]byte(name), 1000) }

func get(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	b, err := blob.GetBytes(context.Background(), s, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b
}

// TestBrokenWritesLeaveNothingHalfWritten breaks one write of each kind and
// checks the object is absent (a create) or whole and unchanged (an update),
// and that the retried write then lands.
func TestBrokenWritesLeaveNothingHalfWritten(t *testing.T) {
	writes := []struct {
		name   string
		before []byte // the object before the broken write; nil: none
		write  func(s blob.Store, key string, b []byte) error
	}{
		{"Put/new", nil, func(s blob.Store, k string, b []byte) error {
			return s.Put(context.Background(), k, bytes.NewReader(b))
		}},
		{"Put/replace", content("old"), func(s blob.Store, k string, b []byte) error {
			return s.Put(context.Background(), k, bytes.NewReader(b))
		}},
		{"PutIfAbsent", nil, func(s blob.Store, k string, b []byte) error {
			return s.PutIfAbsent(context.Background(), k, bytes.NewReader(b))
		}},
		{"PutIfGen/create", nil, func(s blob.Store, k string, b []byte) error {
			return s.PutIfGen(context.Background(), k, bytes.NewReader(b), "")
		}},
		{"PutIfGen/update", content("old"), func(s blob.Store, k string, b []byte) error {
			_, gen, err := s.GetGen(context.Background(), k)
			if err != nil {
				return err
			}
			return s.PutIfGen(context.Background(), k, bytes.NewReader(b), gen)
		}},
		{"ReadModifyWrite", content("old"), func(s blob.Store, k string, b []byte) error {
			return blob.ReadModifyWrite(context.Background(), s, k, func([]byte, bool) ([]byte, bool, error) { return b, true, nil })
		}},
	}
	for _, be := range backends() {
		for _, w := range writes {
			t.Run(be.name+"/"+w.name, func(t *testing.T) {
				inner, check := be.open(t)
				const key = "data/derived/x.arrow"
				if w.before != nil {
					if err := blob.PutBytes(context.Background(), inner, key, w.before); err != nil {
						t.Fatal(err)
					}
				}
				s := blobtest.NewFaulty(inner, "data/", 1)
				if err := w.write(s, key, content("new")); !errors.Is(err, blobtest.ErrInjected) {
					t.Fatalf("broken write: err = %v, want ErrInjected", err)
				}
				if ok, err := s.Exists(context.Background(), key); err != nil || ok != (w.before != nil) {
					t.Fatalf("after the broken write: exists %v, err %v; want %v", ok, err, w.before != nil)
				}
				if w.before != nil && !bytes.Equal(get(t, s, key), w.before) {
					t.Fatal("the broken write changed the object")
				}
				check(t)
				if err := w.write(s, key, content("new")); err != nil {
					t.Fatalf("retried write: %v", err)
				}
				if !bytes.Equal(get(t, s, key), content("new")) {
					t.Fatal("the retried write did not land whole")
				}
				if broken, _ := s.Broken(); broken != key {
					t.Fatalf("Broken() = %q, want %q", broken, key)
				}
				if c := s.Writes(key); c != (blobtest.Counts{Attempts: 2, Succeeded: 1}) {
					t.Fatalf("counts %+v, want 2 attempts, 1 success", c)
				}
				check(t)
			})
		}
	}
}

// TestFaultyBreaksOnlyTheNthWriteUnderPrefix: writes outside the prefix and
// other writes under it pass through.
func TestFaultyBreaksOnlyTheNthWriteUnderPrefix(t *testing.T) {
	inner, _ := backends()[0].open(t)
	s := blobtest.NewFaulty(inner, "data/derived/", 2)
	ctx := context.Background()
	for i, tc := range []struct {
		key     string
		wantErr bool
	}{{"uploads/a.csv", false}, {"data/derived/1", false}, {"runs/r/run.json", false}, {"data/derived/2", true}, {"data/derived/3", false}} {
		err := blob.PutBytes(ctx, s, tc.key, content(tc.key))
		if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, blobtest.ErrInjected)) {
			t.Fatalf("write %d (%s): err = %v, want error %v", i, tc.key, err, tc.wantErr)
		}
	}
	keys, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"data/derived/1", "data/derived/3", "runs/r/run.json", "uploads/a.csv"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
}
