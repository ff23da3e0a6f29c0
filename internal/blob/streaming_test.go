package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"testing"
)

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ off, n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(b)), p.n-p.off))
	for i := range k {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(k)
	return k, nil
}

func patternSum(n int64) [32]byte {
	h := sha256.New()
	if _, err := io.Copy(h, &patternReader{n: n}); err != nil {
		panic(err)
	}
	return [32]byte(h.Sum(nil))
}

// streamSum reads the object at key through Get and hashes it on the way.
func streamSum(t *testing.T, s Store, key string) [32]byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return [32]byte(h.Sum(nil))
}

// allocatedDuring returns how many bytes the process allocated while fn ran.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLocalStreamsLargeObjects: a 64 MiB Put and Get each allocate a small
// fraction of the object, so neither buffers it whole.
func TestLocalStreamsLargeObjects(t *testing.T) {
	const size, budget = 64 << 20, 4 << 20
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var putErr error
	if n := allocatedDuring(func() { putErr = s.Put(context.Background(), "big", &patternReader{n: size}) }); n > budget {
		t.Errorf("Put of %d MiB allocated %d KiB", size>>20, n>>10)
	}
	if putErr != nil {
		t.Fatal(putErr)
	}
	var got [32]byte
	if n := allocatedDuring(func() { got = streamSum(t, s, "big") }); n > budget {
		t.Errorf("Get of %d MiB allocated %d KiB", size>>20, n>>10)
	}
	if got != patternSum(size) {
		t.Fatal("read back different bytes")
	}
}

// TestGCSLargeObjectInChunks: an object larger than the client's 16 MiB
// upload chunk goes up as a resumable upload of several requests (the
// client holds one chunk at a time); it reads back whole, and a
// does-not-exist precondition is still enforced when the last chunk lands.
func TestGCSLargeObjectInChunks(t *testing.T) {
	const size = 40 << 20
	srv := newFakeGCS(t, true)
	s, err := Open(context.Background(), "gs://"+testBucket+"/pre", WithEndpoint(srv.URL()+"/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.(io.Closer).Close()
	ctx := context.Background()
	if err := s.PutIfGen(ctx, "big", &patternReader{n: size}, ""); err != nil {
		t.Fatal(err)
	}
	if streamSum(t, s, "big") != patternSum(size) {
		t.Fatal("read back different bytes")
	}
	_, gen, err := s.GetGen(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfGen(ctx, "big", &patternReader{n: size + 1}, ""); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("second create of a large object: err = %v, want ErrPrecondition", err)
	}
	if _, after, err := s.GetGen(ctx, "big"); err != nil || after != gen {
		t.Fatalf("after the failed create: gen %s, err %v; want gen %s", after, err, gen)
	}
	if err := s.PutIfGen(ctx, "big", bytes.NewReader([]byte("small")), gen); err != nil {
		t.Fatalf("update with the current generation: %v", err)
	}
}
