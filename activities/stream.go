package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/finsight/finsight/internal/blob"
)

// putStream writes what encode produces under key, streaming it into the
// store (never holding the whole object in memory) and hashing it on the
// way. An existing object under a content-derived key holds the same bytes
// and is kept. If encode fails, the write is abandoned and no object (nor
// part of one) is left.
func (a *Activities) putStream(ctx context.Context, key string, rows int, encode func(io.Writer) error) (blob.Ref, error) {
	pr, pw := io.Pipe()
	h := sha256.New()
	go func() {
		err := encode(io.MultiWriter(pw, h))
		pw.CloseWithError(err) // nil closes cleanly
	}()
	err := a.Store.PutIfAbsent(ctx, key, pr)
	pr.CloseWithError(errors.New("write finished")) // unblock the encoder if Put returned early
	ref := blob.Ref{Key: key, SHA256: hex.EncodeToString(h.Sum(nil)), Rows: rows}
	if errors.Is(err, blob.ErrExists) {
		// Same inputs, same bytes: the hash of what is stored is the hash of
		// what we would have written, but encode may not have finished; read it.
		return a.refOf(ctx, key, rows)
	}
	if err != nil {
		return ref, a.writeErr(key, err)
	}
	return ref, nil
}

// refOf hashes an existing object by streaming it.
func (a *Activities) refOf(ctx context.Context, key string, rows int) (blob.Ref, error) {
	r, err := a.Store.Get(ctx, key)
	if err != nil {
		return blob.Ref{}, storeErr(err, "read %s", key)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return blob.Ref{}, fmt.Errorf("read %s: %w", key, err)
	}
	return blob.Ref{Key: key, SHA256: hex.EncodeToString(h.Sum(nil)), Rows: rows}, nil
}

// openVerified streams an object into a temporary file, checking it against
// its reference's hash, and returns the file positioned at its start (Arrow
// IPC files need random access). close removes the file.
func (a *Activities) openVerified(ctx context.Context, ref blob.Ref) (f *os.File, closeFn func(), err error) {
	r, err := a.Store.Get(ctx, ref.Key)
	if err != nil {
		return nil, nil, storeErr(err, "read %s", ref.Key)
	}
	defer r.Close()
	f, err = os.CreateTemp("", "finsight-*.arrow")
	if err != nil {
		return nil, nil, fmt.Errorf("spool %s: %w", ref.Key, err)
	}
	closeFn = func() { f.Close(); os.Remove(f.Name()) }
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("read %s: %w", ref.Key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); ref.SHA256 != "" && got != ref.SHA256 {
		closeFn()
		return nil, nil, a.corrupt(ref.Key, "content hash %s does not match its reference %s", got[:12], ref.SHA256[:12])
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("spool %s: %w", ref.Key, err)
	}
	return f, closeFn, nil
}
