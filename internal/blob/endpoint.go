package blob

import (
	"fmt"
	"net/url"
	"strings"
)

// jsonAPIPath is where the GCS JSON API lives under an endpoint.
const jsonAPIPath = "/storage/v1"

// normalizeEndpoint turns the accepted forms of a GCS endpoint into the
// JSON API base URL the storage client wants
// ("http://localhost:4443/storage/v1/"):
//
//   - "http://host:port" or "https://host[:port]", with or without a path
//     ending in /storage/v1 and with or without a trailing slash;
//   - a bare "host:port" (optionally with the path), which means a local
//     emulator and is spoken to over plain http, as the storage library does
//     with STORAGE_EMULATOR_HOST=host:port. (Before, it was sent over https
//     and failed with "server gave HTTP response to HTTPS client".)
//
// /storage/v1/ is appended to a path that does not already end in it.
func normalizeEndpoint(endpoint string) (string, error) {
	raw := strings.TrimSpace(endpoint)
	if raw == "" {
		return "", fmt.Errorf("GCS endpoint: empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("GCS endpoint %q: %w", endpoint, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("GCS endpoint %q: scheme %q, want http or https", endpoint, u.Scheme)
	case u.Host == "":
		return "", fmt.Errorf("GCS endpoint %q: no host", endpoint)
	case u.User != nil, u.RawQuery != "", u.Fragment != "":
		return "", fmt.Errorf("GCS endpoint %q: want scheme://host[:port][/path] only", endpoint)
	}
	path := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(path, jsonAPIPath) {
		path += jsonAPIPath
	}
	u.Path, u.RawPath = path+"/", ""
	return u.String(), nil
}
