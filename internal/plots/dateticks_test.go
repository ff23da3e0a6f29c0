package plots

import (
	"testing"
	"time"
)

func TestDateTicks(t *testing.T) {
	for _, tc := range []struct {
		from, to  time.Time
		wantFirst string
		wantLast  string
	}{
		{time.Date(2002, 5, 23, 0, 0, 0, 0, time.UTC), time.Date(2022, 6, 3, 0, 0, 0, 0, time.UTC), "2005", "2020"},
		{time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2024, 12, 20, 0, 0, 0, 0, time.UTC), "2024-03", "2024-11"},
		{time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC), time.Date(2024, 1, 6, 0, 0, 0, 0, time.UTC), "2024-01-02", "2024-01-06"},
	} {
		min, max := unixX(tc.from), unixX(tc.to)
		ticks := dateTicks{}.Ticks(min, max)
		if len(ticks) < 2 || len(ticks) > maxDateTicks {
			t.Fatalf("%s..%s: %d ticks %v, want 2..%d", tc.from, tc.to, len(ticks), ticks, maxDateTicks)
		}
		for i, tk := range ticks {
			if tk.Value < min || tk.Value > max || (i > 0 && tk.Value <= ticks[i-1].Value) {
				t.Errorf("%s..%s: tick %d at %v is out of range or order", tc.from, tc.to, i, tk.Value)
			}
		}
		if ticks[0].Label != tc.wantFirst || ticks[len(ticks)-1].Label != tc.wantLast {
			t.Errorf("%s..%s: labels %q..%q, want %q..%q", tc.from, tc.to, ticks[0].Label, ticks[len(ticks)-1].Label, tc.wantFirst, tc.wantLast)
		}
	}
	if ticks := (dateTicks{}).Ticks(5, 5); ticks != nil {
		t.Errorf("empty range gave ticks %v", ticks)
	}
}
