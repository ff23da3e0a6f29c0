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
