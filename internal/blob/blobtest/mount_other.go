//go:build !linux

package blobtest

import (
	"errors"
	"fmt"
)

// MountFull needs Linux mounts; elsewhere callers fall back to WriteFault.
func MountFull(dir string) (func() error, error) {
	return nil, fmt.Errorf("blobtest: mount on %s: %w", dir, errors.ErrUnsupported)
}

// MountTmpfs needs Linux mounts; elsewhere callers fall back to WriteFault.
func MountTmpfs(dir string) (func() error, error) {
	return nil, fmt.Errorf("blobtest: mount on %s: %w", dir, errors.ErrUnsupported)
}

// RemountReadOnly needs Linux mounts.
func RemountReadOnly(dir string) error {
	return fmt.Errorf("blobtest: remount %s: %w", dir, errors.ErrUnsupported)
}
