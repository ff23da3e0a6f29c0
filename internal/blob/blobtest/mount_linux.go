package blobtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// pageSize is the smallest size a tmpfs can have: one page.
const pageSize = 4096

// MountFull mounts a tmpfs of one page on dir (created if needed) and
// fills it, so that any write into it fails with ENOSPC, as on a full disk.
// The ballast file is named "ballast". It needs the right to mount (root,
// or CAP_SYS_ADMIN); without it the error wraps syscall.EPERM and callers
// fall back to WriteFault. unmount undoes it.
func MountFull(dir string) (unmount func() error, err error) {
	unmount, err = mountTmpfs(dir, 0)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "ballast"), make([]byte, pageSize), 0o644); err != nil {
		_ = unmount()
		return nil, fmt.Errorf("blobtest: fill %s: %w", dir, err)
	}
	probe := filepath.Join(dir, "probe")
	werr := os.WriteFile(probe, []byte{1}, 0o644)
	_ = os.Remove(probe)
	if !errors.Is(werr, syscall.ENOSPC) {
		_ = unmount()
		return nil, fmt.Errorf("blobtest: %s is not full after filling it (write: %v)", dir, werr)
	}
	return unmount, nil
}

// MountTmpfs mounts an empty tmpfs on dir (created if needed), so that a
// test can fill it and then make it read-only with RemountReadOnly. It
// needs the right to mount, as MountFull does.
func MountTmpfs(dir string) (unmount func() error, err error) {
	return mountTmpfs(dir, 0)
}

// RemountReadOnly makes the tmpfs on dir read-only: writes fail with
// EROFS, even for root (a directory's mode does not stop root).
func RemountReadOnly(dir string) error {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("blobtest: remount %s read-only: %w", dir, err)
	}
	return nil
}

// mountTmpfs mounts a tmpfs on dir; size 0 means one page.
func mountTmpfs(dir string, size int) (func() error, error) {
	if size <= 0 {
		size = pageSize
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blobtest: mount on %s: %w", dir, err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=755", size)); err != nil {
		return nil, fmt.Errorf("blobtest: mount a tmpfs on %s: %w", dir, err)
	}
	return func() error {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("blobtest: unmount %s: %w", dir, err)
		}
		return nil
	}, nil
}
