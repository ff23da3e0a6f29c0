package pipeline_test

import (
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// tickerDoc is the pattern NormalizeTicker documents: 1-15 upper-case
// letters, digits, '.', '-' or '^', at least one letter or digit.
var tickerDoc = regexp.MustCompile(`^[A-Z0-9.^-]{1,15}$`)

// checkTicker checks a ticker NormalizeTicker accepted: the documented
// pattern, no "..", normalised (idempotent), and usable as a store key
// segment (registry/<T>.json, models/<T>/v1).
func checkTicker(t *testing.T, in, got string) {
	t.Helper()
	switch {
	case !tickerDoc.MatchString(got) || !strings.ContainsAny(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") || strings.Contains(got, ".."):
		t.Fatalf("%q normalised to %q, outside the documented pattern", in, got)
	case got != strings.ToUpper(strings.TrimSpace(in)):
		t.Fatalf("%q normalised to %q: not the symbol given, upper-cased", in, got)
	}
	again, err := pipeline.NormalizeTicker(got)
	if err != nil || again != got {
		t.Fatalf("normalising %q again: %q, %v; want itself", got, again, err)
	}
	for _, key := range []string{"registry/" + got + ".json", "models/" + got + "/v1/weights", "runs-index/" + got + ".json"} {
		if err := blob.ValidateKey(key); err != nil {
			t.Fatalf("ticker %q makes an invalid key: %v", got, err)
		}
	}
}

// FuzzNormalizeTicker: any string is refused or normalised as documented,
// and never panics.
func FuzzNormalizeTicker(f *testing.F) {
	for _, s := range []string{"NFLX", " nflx ", "brk.b", "BRK-B", "^GSPC", ".", "..", "A..B", ".A", "A.", "-", "^", "",
		"ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNO", "../etc", "a/b", "a\\b", "A\x00", "ǆ", "ß", "ﬀ", "\u0130", "\u212a", "MSFT.US"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := pipeline.NormalizeTicker(s)
		if err != nil {
			if got != "" {
				t.Fatalf("%q refused (%v) but %q returned", s, err, got)
			}
			return
		}
		checkTicker(t, s, got)
	})
}

// FuzzTickerFromFileName: any file name gives an error or a normalised
// ticker taken from the name's last element.
func FuzzTickerFromFileName(f *testing.F) {
	for _, s := range []string{"NFLX.csv", "AAL_data.csv", "brk.b_prices.csv", "sp500_5yr/AAPL_data.csv", "C:\\data\\msft-daily.CSV",
		"_data.csv", ".csv", "", "/", "\\", "a.b.c", "..csv", "../../etc/passwd", "x_data", "ABC-prices.tar.gz", "\x00.csv", "ǆ_data.csv"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := pipeline.TickerFromFileName(name)
		if err != nil {
			if got != "" || !strings.Contains(err.Error(), "name files <TICKER>.csv") {
				t.Fatalf("%q: %q with error %v", name, got, err)
			}
			return
		}
		again, err := pipeline.NormalizeTicker(got)
		if err != nil || again != got {
			t.Fatalf("%q gave %q, which normalises to %q, %v", name, got, again, err)
		}
		base := strings.ToUpper(strings.TrimSpace(path.Base(strings.ReplaceAll(name, "\\", "/"))))
		if !strings.HasPrefix(base, got) {
			t.Fatalf("%q gave %q, not the start of its last element", name, got)
		}
	})
}
