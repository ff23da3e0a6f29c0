package memstat

import "testing"

// Touching 64 MiB must show in the resident size: the reader finds VmRSS
// and parses it in KiB.
func TestResidentKBGrowsWithTouchedMemory(t *testing.T) {
	before, err := ResidentKB()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	after, err := ResidentKB()
	if err != nil {
		t.Fatal(err)
	}
	if grew := after - before; grew < 32<<10 {
		t.Errorf("resident size grew by %d KiB after touching 64 MiB (before %d, after %d)", grew, before, after)
	}
	_ = buf[len(buf)-1]
}
