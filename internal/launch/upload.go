package launch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// Upload is a CSV in the store under its content hash
// (pipeline.UploadKey), where workers on any machine can read it and the
// same bytes are stored once.
type Upload struct {
	Key    string `json:"csv_key"`
	SHA256 string `json:"sha256"`
	Name   string `json:"name"` // where it came from, for people
}

// UploadFile puts a local CSV into the store.
func UploadFile(ctx context.Context, store blob.Store, path string) (Upload, error) {
	f, err := os.Open(path)
	if err != nil {
		return Upload{}, fmt.Errorf("read csv: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return Upload{}, fmt.Errorf("read csv: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Upload{}, fmt.Errorf("read csv: %w", err)
	}
	up := Upload{SHA256: hex.EncodeToString(h.Sum(nil)), Name: filepath.Base(path)}
	up.Key = pipeline.UploadKey(up.SHA256)
	if err := putAbsent(ctx, store, up.Key, f); err != nil {
		return Upload{}, fmt.Errorf("upload %s: %w", path, err)
	}
	return up, nil
}

// putAbsent writes key unless it exists: the key names its content.
func putAbsent(ctx context.Context, store blob.Store, key string, r io.Reader) error {
	if err := store.PutIfAbsent(ctx, key, r); err != nil && !errors.Is(err, blob.ErrExists) {
		return err
	}
	return nil
}

// Spooled is a CSV received as a stream (an HTTP upload), held in a
// temporary file with its hash until the request it came with has been
// checked; Put then stores it.
type Spooled struct {
	f      *os.File
	SHA256 string
	Size   int64
	Name   string
}

// Spool copies r into a temporary file, hashing it on the way. The
// caller bounds r (an HTTP body limit) and must Close the result.
func Spool(r io.Reader, name string) (*Spooled, error) {
	f, err := os.CreateTemp("", "finsight-upload-*.csv")
	if err != nil {
		return nil, fmt.Errorf("spool upload: %w", err)
	}
	s := &Spooled{f: f, Name: name}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.SHA256, s.Size = hex.EncodeToString(h.Sum(nil)), n
	return s, nil
}

// Put stores the spooled CSV under its hash.
func (s *Spooled) Put(ctx context.Context, store blob.Store) (Upload, error) {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return Upload{}, fmt.Errorf("spooled upload: %w", err)
	}
	up := Upload{Key: pipeline.UploadKey(s.SHA256), SHA256: s.SHA256, Name: s.Name}
	if err := putAbsent(ctx, store, up.Key, s.f); err != nil {
		return Upload{}, fmt.Errorf("upload %s: %w", up.Key, err)
	}
	return up, nil
}

// Close removes the temporary file.
func (s *Spooled) Close() {
	if s == nil || s.f == nil {
		return
	}
	s.f.Close()
	os.Remove(s.f.Name())
	s.f = nil
}

// StoredCSV is the CSV already in the store under key (a request's
// store_csv), hashed: its key need not name its content. A bad or missing
// key is a *pipeline.FieldError of store_csv; a store failure is returned
// as it is (blob.ErrUnavailable while the store is down).
func StoredCSV(ctx context.Context, store blob.Store, key string) (Upload, error) {
	if err := blob.ValidateKey(key); err != nil {
		return Upload{}, &pipeline.FieldError{Field: "store_csv", Msg: err.Error()}
	}
	r, err := store.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return Upload{}, &pipeline.FieldError{Field: "store_csv", Msg: fmt.Sprintf("no object %s in the store", key)}
	}
	if err != nil {
		return Upload{}, fmt.Errorf("read %s: %w", key, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return Upload{}, fmt.Errorf("read %s: %w", key, err)
	}
	return Upload{Key: key, SHA256: hex.EncodeToString(h.Sum(nil)), Name: store.URI(key)}, nil
}
