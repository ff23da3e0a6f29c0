package main

import (
	"os"
	"testing"
)

// runMainEnv makes the test binary run the starter's main instead of the
// tests, so that a test can run the starter as a process of its own (in a
// pseudo-terminal, say) without building it: exec os.Args[0] with the
// starter's arguments and runMainEnv=1.
const runMainEnv = "FINSIGHT_STARTER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}
