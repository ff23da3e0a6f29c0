package steps

import (
	"slices"
	"testing"

	"github.com/finsight/finsight/internal/blob"
)

func TestNamesAreDistinct(t *testing.T) {
	names := Names()
	if sorted := slices.Compact(slices.Sorted(slices.Values(names))); len(sorted) != len(names) {
		t.Fatalf("Names() repeats a name: %v", names)
	}
}

func TestPartsAreTrainValTest(t *testing.T) {
	var s Splits
	for i, p := range s.Parts() {
		*p = blob.Ref{Key: []string{"train", "val", "test"}[i]}
	}
	if s.Train.Key != "train" || s.Val.Key != "val" || s.Test.Key != "test" {
		t.Fatalf("Parts wrote %+v", s)
	}
}
