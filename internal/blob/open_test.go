package blob

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestOpenLocal(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		url     string
		wantDir string
	}{
		{"file://" + filepath.ToSlash(filepath.Join(dir, "a")), filepath.Join(dir, "a")},
		{"./store", filepath.Join(dir, "store")},
		{filepath.Join(dir, "plain"), filepath.Join(dir, "plain")},
	}
	for _, tc := range tests {
		s, err := Open(context.Background(), tc.url)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.url, err)
		}
		d, ok := s.(*DeadlineStore)
		if !ok || d.Timeout() != DefaultCallTimeout {
			t.Fatalf("Open(%q) = %T, want a *DeadlineStore with the default timeout", tc.url, s)
		}
		l, ok := d.Unwrap().(*Local)
		if !ok {
			t.Fatalf("Open(%q) wraps %T, want *Local", tc.url, d.Unwrap())
		}
		if l.Dir() != tc.wantDir {
			t.Errorf("Open(%q) dir = %q, want %q", tc.url, l.Dir(), tc.wantDir)
		}
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, url := range []string{"s3://bucket/x", "gs:///no-bucket", "file://host/dir"} {
		if _, err := Open(context.Background(), url); err == nil {
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}

func TestOpenCallTimeout(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), WithCallTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := s.(*DeadlineStore); !ok || d.Timeout() != 3*time.Second {
		t.Fatalf("Open with WithCallTimeout(3s) = %T %+v", s, s)
	}
}

func TestOpenRejectsBadEndpoint(t *testing.T) {
	if _, err := Open(context.Background(), "gs://b/p", WithEndpoint("ftp://host:21")); err == nil {
		t.Fatal("Open with an ftp:// endpoint succeeded")
	}
}
