package main

import (
	"errors"
	"fmt"

	"github.com/finsight/finsight/internal/blob"
)

// storeUnavailable is the first line the starter prints when a command
// failed because the store did not answer (blob.ErrUnavailable): which
// store, why, and what to do. ok is false for any other error.
func storeUnavailable(err error) (line string, ok bool) {
	var ue *blob.UnavailableError
	if !errors.As(err, &ue) {
		return "", false
	}
	why := "it could not be reached"
	if ue.Within > 0 {
		why = fmt.Sprintf("no answer within %s", ue.Within)
	}
	return fmt.Sprintf("store %s is unavailable (%s); check that it is reachable (FINSIGHT_STORE, FINSIGHT_GCS_ENDPOINT) "+
		"and run the command again (FINSIGHT_STORE_TIMEOUT sets how long each call waits)", ue.Store, why), true
}
