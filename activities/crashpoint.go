package activities

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// CrashPoint names a place inside a step where the worker kills itself
// with SIGKILL when told to: a testing knob (FINSIGHT_CRASH_AT) that makes
// a kill -9 land at an exact point between two writes, which an external
// kill can only hit by chance. The zero value never crashes.
type CrashPoint string

// The crash points.
const (
	// CrashRegisterAfterFiles: a new version's files are written, the
	// manifest does not list it yet.
	CrashRegisterAfterFiles CrashPoint = "register:after-files"
	// CrashRegisterAfterManifest: the manifest lists the new version, the
	// Register step has not returned it to the workflow.
	CrashRegisterAfterManifest CrashPoint = "register:after-manifest"
	// CrashPromoteAfterMove: the alias moved, the Promote step has not
	// returned its decision to the workflow.
	CrashPromoteAfterMove CrashPoint = "promote:after-move"
)

// ParseCrashPoint checks a crash point's name; "" is none.
func ParseCrashPoint(s string) (CrashPoint, error) {
	switch p := CrashPoint(strings.TrimSpace(s)); p {
	case "", CrashRegisterAfterFiles, CrashRegisterAfterManifest, CrashPromoteAfterMove:
		return p, nil
	}
	return "", fmt.Errorf("unknown crash point %q (want %s, %s or %s)", s,
		CrashRegisterAfterFiles, CrashRegisterAfterManifest, CrashPromoteAfterMove)
}

// reach kills the process with SIGKILL if p is the point here: no
// deferred function, no goodbye to the server, exactly what kill -9 does.
func (p CrashPoint) reach(here CrashPoint) {
	if p == "" || p != here {
		return
	}
	fmt.Fprintf(os.Stderr, "worker: crash point %s reached: kill -9 of this process\n", here)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way; nothing after the point may run
}
