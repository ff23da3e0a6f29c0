package main

import (
	"flag"
	"fmt"

	"github.com/finsight/finsight/activities"
)

// crashAtFromEnv reads FINSIGHT_CRASH_AT, a testing knob: the worker kills
// itself with SIGKILL when one of its steps reaches that point (see
// activities.CrashPoint). Empty: never.
func crashAtFromEnv(getenv func(string) string) (activities.CrashPoint, error) {
	p, err := activities.ParseCrashPoint(getenv("FINSIGHT_CRASH_AT"))
	if err != nil {
		return "", fmt.Errorf("FINSIGHT_CRASH_AT: %w", err)
	}
	return p, nil
}

// crashFlag registers --crash-at over the environment's value.
func crashFlag(p *activities.CrashPoint, fs *flag.FlagSet) {
	fs.Func("crash-at", fmt.Sprintf("testing only: kill -9 this worker when a step reaches this point: %s, %s or %s (env FINSIGHT_CRASH_AT; default %q: never)",
		activities.CrashRegisterAfterFiles, activities.CrashRegisterAfterManifest, activities.CrashPromoteAfterMove, string(*p)),
		func(s string) error {
			v, err := activities.ParseCrashPoint(s)
			if err != nil {
				return err
			}
			*p = v
			return nil
		})
}
