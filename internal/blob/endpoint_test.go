package blob

import "testing"

func TestNormalizeEndpoint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://localhost:4443", "http://localhost:4443/storage/v1/"},
		{"http://localhost:4443/", "http://localhost:4443/storage/v1/"},
		{"http://localhost:4443/storage/v1", "http://localhost:4443/storage/v1/"},
		{"http://localhost:4443/storage/v1/", "http://localhost:4443/storage/v1/"},
		{"https://storage.example.com", "https://storage.example.com/storage/v1/"},
		{"https://storage.example.com/storage/v1/", "https://storage.example.com/storage/v1/"},
		{"https://proxy.example.com/gcs", "https://proxy.example.com/gcs/storage/v1/"},
		{"localhost:4443", "http://localhost:4443/storage/v1/"},
		{"gcs:4443", "http://gcs:4443/storage/v1/"},
		{"127.0.0.1:4443/storage/v1/", "http://127.0.0.1:4443/storage/v1/"},
		{" [::1]:4443 ", "http://[::1]:4443/storage/v1/"},
	} {
		got, err := normalizeEndpoint(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("normalizeEndpoint(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "ftp://host:21", "http://", "http://host:1/?x=1", "http://user:pw@host:1"} {
		if got, err := normalizeEndpoint(bad); err == nil {
			t.Errorf("normalizeEndpoint(%q) = %q, want an error", bad, got)
		}
	}
}
