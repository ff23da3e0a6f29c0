package workflows

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestStepFailedNamesTheStoreNotABareContextError(t *testing.T) {
	cause := fmt.Errorf("store gs://b/p unavailable (no answer within 30s): get data/w.arrow: %w", context.Canceled)
	err := stepFailed("train", fmt.Errorf("read data/w.arrow: %w", cause))
	if want := "train failed: store gs://b/p unavailable (no answer within 30s): get data/w.arrow: context canceled"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want it to start %q", err, want)
	}
	plain := stepFailed("ingest", fmt.Errorf("read x: %w", fmt.Errorf("bad row 7")))
	if !strings.HasPrefix(plain.Error(), "ingest failed: bad row 7") {
		t.Fatalf("error %q does not name the innermost cause", plain)
	}
}
