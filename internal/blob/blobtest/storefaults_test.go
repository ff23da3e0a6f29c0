package blobtest_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/blob/blobtest"
)

// assertWholeOrMissing checks what a reader of key sees after a failed
// write: want (the previous whole object), or NotFound when want is nil.
func assertWholeOrMissing(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	got, err := blob.GetBytes(context.Background(), s, key)
	switch {
	case want == nil && !errors.Is(err, blob.ErrNotFound):
		t.Fatalf("after a failed write of a new %s: %d bytes, %v; want ErrNotFound", key, len(got), err)
	case want != nil && (err != nil || !bytes.Equal(got, want)):
		t.Fatalf("after a failed overwrite of %s: %d bytes (%v); want the previous %d bytes whole", key, len(got), err, len(want))
	}
}

// assertRefused checks that err is the refusal want, with the errno the
// system gives, and not mistaken for an outage.
func assertRefused(t *testing.T, err error, want blob.Refusal, errno syscall.Errno) {
	t.Helper()
	why, cause, ok := blob.Refused(err)
	if !ok || why != want || cause != errno.Error() || !errors.Is(err, errno) {
		t.Fatalf("err %v: refused %v (%q, %q), want %q with %q", err, ok, why, cause, want, errno.Error())
	}
	if errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("err %v is classified as an outage", err)
	}
}

// TestInjectedDiskFullAndReadOnly: on both stores, a write that fails
// half-way with ENOSPC or EROFS (an *fs.PathError, as write(2) gives it)
// is a refusal (blob.Refused), never an outage, and leaves readers the
// previous whole object, or none; the local folder keeps no temp file.
func TestInjectedDiskFullAndReadOnly(t *testing.T) {
	faults := []struct {
		name  string
		wrap  func(blob.Store) *blobtest.WriteFault
		why   blob.Refusal
		errno syscall.Errno
	}{
		{"ENOSPC", func(s blob.Store) *blobtest.WriteFault { return blobtest.NewNoSpace(s, "data/", 0) }, blob.RefusedNoSpace, syscall.ENOSPC},
		{"EROFS", func(s blob.Store) *blobtest.WriteFault { return blobtest.NewReadOnly(s, "data/", 0) }, blob.RefusedReadOnly, syscall.EROFS},
	}
	ctx := context.Background()
	old := []byte(strings.Repeat("the previous version ", 50))
	next := bytes.Repeat([]byte("new content "), 4096)
	for _, b := range backends() {
		for _, f := range faults {
			t.Run(b.name+"/"+f.name, func(t *testing.T) {
				inner, check := b.open(t)
				if err := blob.PutBytes(ctx, inner, "data/old.arrow", old); err != nil {
					t.Fatal(err)
				}
				s := blob.WithDeadlines(f.wrap(inner), 0)
				assertRefused(t, blob.PutBytes(ctx, s, "data/old.arrow", next), f.why, f.errno)
				assertWholeOrMissing(t, s, "data/old.arrow", old)
				assertRefused(t, s.PutIfAbsent(ctx, "data/new.arrow", bytes.NewReader(next)), f.why, f.errno)
				assertWholeOrMissing(t, s, "data/new.arrow", nil)
				_, gen, err := s.GetGen(ctx, "data/old.arrow")
				if err != nil {
					t.Fatal(err)
				}
				assertRefused(t, s.PutIfGen(ctx, "data/old.arrow", bytes.NewReader(next), gen), f.why, f.errno)
				assertWholeOrMissing(t, s, "data/old.arrow", old)
				if err := blob.PutBytes(ctx, s, "runs/r/run.json", []byte("{}")); err != nil {
					t.Fatalf("a write outside the faulty prefix: %v", err)
				}
				check(t)
			})
		}
	}
}

// mountOrFail mounts a tmpfs on dir. The test runs as root here; a
// machine that cannot mount has TestInjectedDiskFullAndReadOnly.
func mountOrFail(t *testing.T, mount func(string) (func() error, error), dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestInjectedDiskFullAndReadOnly injects the same errors")
	}
	unmount, err := mount(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unmount(); err != nil {
			t.Error(err)
		}
	})
}

// TestRealFullDisk: a local store whose data/ folder is a full tmpfs (a
// real ENOSPC from the kernel) refuses writes there with RefusedNoSpace;
// the previous object stays whole and no temp file is left.
func TestRealFullDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	mountOrFail(t, blobtest.MountTmpfs, filepath.Join(dir, "data"))
	ctx := context.Background()
	old := []byte("a small object that takes the tmpfs's one page")
	if err := blob.PutBytes(ctx, s, "data/old.arrow", old); err != nil {
		t.Fatal(err)
	}
	next := bytes.Repeat([]byte("x"), 64<<10)
	assertRefused(t, blob.PutBytes(ctx, s, "data/old.arrow", next), blob.RefusedNoSpace, syscall.ENOSPC)
	assertWholeOrMissing(t, s, "data/old.arrow", old)
	assertRefused(t, s.PutIfAbsent(ctx, "data/new.arrow", bytes.NewReader(next)), blob.RefusedNoSpace, syscall.ENOSPC)
	assertWholeOrMissing(t, s, "data/new.arrow", nil)
	assertOnlyObjectFiles(t, s, dir)
}

// TestRealReadOnlyMount: a local store whose data/ folder is remounted
// read-only (EROFS from the kernel, which stops root too, where a 0555
// folder would not) refuses writes there with RefusedReadOnly, and reads
// still work.
func TestRealReadOnlyMount(t *testing.T) {
	dir := t.TempDir()
	s, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	mountOrFail(t, blobtest.MountTmpfs, data)
	ctx := context.Background()
	old := []byte("written before the remount")
	if err := blob.PutBytes(ctx, s, "data/old.arrow", old); err != nil {
		t.Fatal(err)
	}
	if err := blobtest.RemountReadOnly(data); err != nil {
		t.Fatal(err)
	}
	assertRefused(t, blob.PutBytes(ctx, s, "data/old.arrow", []byte("new")), blob.RefusedReadOnly, syscall.EROFS)
	assertRefused(t, s.PutIfAbsent(ctx, "data/sub/new.arrow", strings.NewReader("new")), blob.RefusedReadOnly, syscall.EROFS)
	assertWholeOrMissing(t, s, "data/old.arrow", old)
	assertWholeOrMissing(t, s, "data/sub/new.arrow", nil)
	if err := blob.PutBytes(ctx, s, "runs/r/run.json", []byte("{}")); err != nil {
		t.Fatalf("a write outside the read-only mount: %v", err)
	}
}

// TestMountFullFillsTheMount: MountFull leaves no room for one byte.
func TestMountFullFillsTheMount(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "full")
	mountOrFail(t, blobtest.MountFull, dir)
	err := os.WriteFile(filepath.Join(dir, "one-byte"), []byte{1}, 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing one byte: %v, want ENOSPC", err)
	}
}

// TestContendedLosesRacesThenPasses: the first n compare-and-swap writes of
// the key lose (ErrPrecondition) without writing; ReadModifyWrite retries
// past a storm of them and applies its mutation once; a storm longer than
// its attempts ends in a retryable ErrPrecondition that says how many races
// it lost, with the object unchanged.
func TestContendedLosesRacesThenPasses(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			inner, check := b.open(t)
			appendX := func(cur []byte, _ bool) ([]byte, bool, error) { return append(cur, 'x'), true, nil }
			s := blobtest.NewContended(inner, "registry/T.json", 7)
			if err := blob.ReadModifyWrite(ctx, s, "registry/T.json", appendX); err != nil {
				t.Fatalf("through a storm of 7 lost races: %v", err)
			}
			if lost, passed := s.Races(); lost != 7 || passed != 1 {
				t.Fatalf("lost %d races and passed %d, want 7 and 1", lost, passed)
			}
			assertWholeOrMissing(t, inner, "registry/T.json", []byte("x"))

			endless := blobtest.NewContended(inner, "registry/T.json", 1000)
			err := blob.ReadModifyWrite(ctx, endless, "registry/T.json", appendX)
			if !errors.Is(err, blob.ErrPrecondition) || errors.Is(err, blob.ErrUnavailable) || !strings.Contains(err.Error(), "lost 50 races") ||
				!strings.Contains(err.Error(), "registry/T.json") {
				t.Fatalf("an endless storm ended with %v, want ErrPrecondition saying it lost 50 races on the key", err)
			}
			if _, _, refused := blob.Refused(err); refused {
				t.Fatalf("a lost race is classified as a refusal: %v", err)
			}
			assertWholeOrMissing(t, inner, "registry/T.json", []byte("x"))
			check(t)
		})
	}
}

// TestCorruptAfterWriteDamagesTheFirstObject: the wrapper damages the
// first object written under its prefix, once, and what a reader then
// gets no longer has the hash of what was written.
func TestCorruptAfterWriteDamagesTheFirstObject(t *testing.T) {
	ctx := context.Background()
	content := bytes.Repeat([]byte("arrow bytes "), 100)
	for _, b := range backends() {
		for _, d := range []blobtest.Damage{blobtest.Truncate, blobtest.FlipBit} {
			t.Run(b.name+"/"+d.String(), func(t *testing.T) {
				inner, _ := b.open(t)
				s := blobtest.NewCorruptAfterWrite(inner, "data/derived/", d)
				for _, k := range []string{"data/raw/a", "data/derived/b", "data/derived/c"} {
					if err := s.PutIfAbsent(ctx, k, bytes.NewReader(content)); err != nil {
						t.Fatal(err)
					}
				}
				key, err := s.Corrupted()
				if key != "data/derived/b" || err != nil {
					t.Fatalf("damaged %q (%v), want data/derived/b", key, err)
				}
				got, err := blob.GetBytes(ctx, inner, key)
				if err != nil {
					t.Fatal(err)
				}
				if blob.ContentHash(got) == blob.ContentHash(content) || !bytes.Equal(got, blobtest.Damaged(content, d)) {
					t.Fatalf("%s holds %d bytes, want the %s content", key, len(got), d)
				}
				assertWholeOrMissing(t, inner, "data/derived/c", content)
			})
		}
	}
}
