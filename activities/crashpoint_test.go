package activities

import "testing"

func TestParseCrashPoint(t *testing.T) {
	for in, want := range map[string]CrashPoint{
		"":                          "",
		"  ":                        "",
		"register:after-files":      CrashRegisterAfterFiles,
		" register:after-manifest ": CrashRegisterAfterManifest,
		"promote:after-move":        CrashPromoteAfterMove,
	} {
		if got, err := ParseCrashPoint(in); err != nil || got != want {
			t.Errorf("ParseCrashPoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"register", "register:after-file", "promote:before-move", "REGISTER:AFTER-FILES"} {
		if got, err := ParseCrashPoint(in); err == nil {
			t.Errorf("ParseCrashPoint(%q) = %q, want an error", in, got)
		}
	}
}

// The zero crash point, and a point other than the one reached, return:
// this test process would be killed otherwise.
func TestCrashPointReachedElsewhereDoesNothing(t *testing.T) {
	CrashPoint("").reach(CrashRegisterAfterFiles)
	CrashRegisterAfterManifest.reach(CrashRegisterAfterFiles)
	CrashPromoteAfterMove.reach(CrashRegisterAfterManifest)
}
