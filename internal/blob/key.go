package blob

import (
	"fmt"
	"strings"
)

// tempPrefix starts the names of the local store's in-flight temp files and
// lockPrefix those of its compare-and-swap lock files. Keys may not use them,
// so these files can never be listed or overwritten as objects.
const (
	tempPrefix = ".blobtmp-"
	lockPrefix = ".bloblock-"
)

// isReserved reports whether a file or key segment name belongs to the store.
func isReserved(name string) bool {
	return strings.HasPrefix(name, tempPrefix) || strings.HasPrefix(name, lockPrefix)
}

// ValidateKey rejects keys that could name something outside the store:
// empty, absolute, with empty, "." or ".." segments, backslashes or NUL bytes.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("blob: invalid key %q: empty", key)
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("blob: invalid key %q: absolute", key)
	}
	if err := validateChars(key); err != nil {
		return err
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("blob: invalid key %q: empty segment", key)
		case seg == "." || seg == "..":
			return fmt.Errorf("blob: invalid key %q: %q segment", key, seg)
		case isReserved(seg):
			return fmt.Errorf("blob: invalid key %q: reserved %q or %q prefix", key, tempPrefix, lockPrefix)
		}
	}
	return nil
}

// validatePrefix checks a List prefix. It may be empty or end in "/" or in a
// partial segment, but may not climb out of the store.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("blob: invalid prefix %q: absolute", prefix)
	}
	if err := validateChars(prefix); err != nil {
		return err
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("blob: invalid prefix %q: %q segment", prefix, seg)
		}
	}
	return nil
}

func validateChars(s string) error {
	if strings.ContainsRune(s, '\\') {
		return fmt.Errorf("blob: invalid key %q: backslash", s)
	}
	if strings.ContainsRune(s, 0) {
		return fmt.Errorf("blob: invalid key %q: NUL byte", s)
	}
	return nil
}
