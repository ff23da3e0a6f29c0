package blob

import (
	"context"
	"path/filepath"
	"testing"
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
		l, ok := s.(*Local)
		if !ok {
			t.Fatalf("Open(%q) = %T, want *Local", tc.url, s)
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
