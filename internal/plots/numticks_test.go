package plots

import "testing"

func TestShortNumber(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 12.5: "12.5", 999: "999", 1000: "1K", 25000: "25K",
		3e8: "300M", 1.25e6: "1.25M", -2e6: "-2M", 4.5e9: "4.5B",
		999999: "1M", 999.7: "1K",
	} {
		if got := shortNumber(v); got != want {
			t.Errorf("shortNumber(%v) = %q, want %q", v, got, want)
		}
	}
	for _, tk := range (shortNumberTicks{}).Ticks(0, 3.2e8) {
		if tk.Label != "" && tk.Label != shortNumber(tk.Value) {
			t.Errorf("tick %v labelled %q", tk.Value, tk.Label)
		}
	}
}

// Close values get the digits that tell them apart.
func TestShortNumberTicksDistinct(t *testing.T) {
	var labels []string
	for _, tk := range (shortNumberTicks{}).Ticks(10.8601, 10.8795) {
		if tk.Label == "" {
			continue
		}
		for _, l := range labels {
			if l == tk.Label {
				t.Fatalf("two ticks labelled %q: %v", l, labels)
			}
		}
		labels = append(labels, tk.Label)
	}
	if len(labels) < 2 {
		t.Fatalf("labels %v", labels)
	}
}
