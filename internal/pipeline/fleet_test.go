package pipeline

import "testing"

// Alike failures count together: positions, values and numbers are left out.
func TestReasonClass(t *testing.T) {
	for in, want := range map[string]string{
		"window failed: val split: 29 rows give no 50-row window with horizon 1":          "window failed: val split: N rows give no N-row window with horizon N",
		`ingest failed: line 4, column "Open": "abc": want a number`:                      "ingest failed",
		`validate failed: critical anomaly "non-positive price" on 2013-02-08` + "\nmore": `validate failed: critical anomaly "…" on N-N-N`,
	} {
		if got := ReasonClass(in); got != want {
			t.Errorf("ReasonClass(%q) = %q, want %q", in, got, want)
		}
	}
	if c := ReasonClass(string(make([]byte, 300))); len(c) > 104 {
		t.Errorf("a long reason stays %d bytes", len(c))
	}
}

// A file's name gives its ticker.
func TestTickerFromFileName(t *testing.T) {
	for in, want := range map[string]string{"AAL_data.csv": "AAL", "nflx.csv": "NFLX", "dir/brk.b_prices.CSV": "BRK.B", `C:\x\MSFT-daily.csv`: "MSFT"} {
		if got, err := TickerFromFileName(in); err != nil || got != want {
			t.Errorf("TickerFromFileName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"bad name!.csv", ".csv", "a..b.csv"} {
		if _, err := TickerFromFileName(bad); err == nil {
			t.Errorf("TickerFromFileName(%q): no error", bad)
		}
	}
}
