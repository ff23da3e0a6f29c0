package blob

import (
	"errors"
	"io/fs"
	"net/http"
	"syscall"

	"google.golang.org/api/googleapi"
)

// Refusal is why a store turned a call down for good: the disk is full,
// the file system is mounted read-only, or the caller may not write there.
// Unlike ErrUnavailable, waiting does not help; someone has to act (free
// space, remount, grant access), so callers fail at once and say why.
type Refusal string

// The refusals Refused recognises. Each reads as the start of a message:
// "disk full writing file:///…".
const (
	RefusedNoSpace  Refusal = "disk full"
	RefusedReadOnly Refusal = "read-only store"
	RefusedDenied   Refusal = "access denied"
)

// refusalErrnos maps the errors the operating system gives a write that
// cannot succeed to the refusal they mean.
var refusalErrnos = []struct {
	errno syscall.Errno
	why   Refusal
}{
	{syscall.ENOSPC, RefusedNoSpace},
	{syscall.EDQUOT, RefusedNoSpace},
	{syscall.EROFS, RefusedReadOnly},
	{syscall.EACCES, RefusedDenied},
	{syscall.EPERM, RefusedDenied},
}

// Refused reports whether err is a refusal (see Refusal), and which, with
// the cause in the system's own words ("no space left on device"). It
// looks for the errno inside the *fs.PathError a local write fails with,
// and for a 403 from GCS. ErrUnavailable, ErrNotFound and the other
// answers the store gives are not refusals.
func Refused(err error) (why Refusal, cause string, ok bool) {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return "", "", false
	}
	for _, r := range refusalErrnos {
		if errors.Is(err, r.errno) {
			return r.why, r.errno.Error(), true
		}
	}
	var gerr *googleapi.Error
	if errors.As(err, &gerr) && gerr.Code == http.StatusForbidden {
		msg := gerr.Message
		if msg == "" {
			msg = http.StatusText(gerr.Code)
		}
		return RefusedDenied, msg, true
	}
	if errors.Is(err, fs.ErrPermission) {
		return RefusedDenied, fs.ErrPermission.Error(), true
	}
	return "", "", false
}
