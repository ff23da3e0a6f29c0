package validate

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/sharedtest"
)

// fileResult is what the validator found in one real file, validated as
// a training split against itself and as a 30% tail against the first 70%.
type fileResult struct {
	ticker     string
	bars       *frame.Bars
	self, tail []Anomaly
}

// validateAll validates every file of a shared folder, two at a time.
func validateAll(t *testing.T, dir string) []fileResult {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(sharedtest.Path(t, dir), "*.csv"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no CSV in %s: %v", dir, err)
	}
	results := make([]fileResult, len(paths))
	errs := make([]error, len(paths))
	cfg := DefaultConfig()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, p := range paths {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b, err := parseFile(p)
			if err != nil {
				errs[i] = err
				return
			}
			cut := b.Len() * 7 / 10
			train, tail := b.Slice(0, cut), b.Slice(cut, b.Len())
			results[i] = fileResult{
				ticker: b.Ticker,
				bars:   b,
				self:   Detect(b, InferSchema(b), Describe(b, cfg.Bins), cfg),
				tail:   Detect(tail, InferSchema(train), Describe(train, cfg.Bins), cfg),
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return results
}

// rowsWith returns, per ticker, the number of distinct rows with any of the
// rules.
func rowsWith(results []fileResult, rules ...string) map[string]int {
	out := map[string]int{}
	for _, r := range results {
		rows := map[int]bool{}
		for _, a := range r.self {
			for _, rule := range rules {
				if a.Rule == rule {
					rows[a.Row] = true
				}
			}
		}
		if len(rows) > 0 {
			out[r.ticker] = len(rows)
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestSP500QuirksAreFound(t *testing.T) {
	results := validateAll(t, "sp500_5yr")
	if len(results) != 505 {
		t.Fatalf("want 505 files, got %d", len(results))
	}
	rows := 0
	for _, r := range results {
		rows += r.bars.Len()
		for _, as := range [][]Anomaly{r.self, r.tail} {
			if crit := Critical(as); len(crit) != 0 {
				t.Errorf("%s: real data gave critical anomalies: %+v", r.ticker, crit)
			}
		}
	}
	if rows != 619040 {
		t.Errorf("want 619040 rows, got %d", rows)
	}

	// 11 rows with empty fields, as the data README lists them.
	wantMissing := map[string]int{"BHF": 1, "DHR": 2, "ES": 1, "FTV": 1, "O": 2, "REGN": 1, "UA": 1, "VRTX": 1, "WRK": 1}
	if got := rowsWith(results, RuleMissingValue); !maps.Equal(got, wantMissing) || total(got) != 11 {
		t.Errorf("missing_value rows: got %v, want %v (11)", got, wantMissing)
	}
	// 12 rows with High < max(Open, Close) or Low > min(Open, Close).
	wantHL := map[string]int{"AOS": 1, "BBY": 1, "CHD": 1, "CHK": 1, "DHR": 1, "IP": 1, "LNT": 1, "O": 2, "SPG": 1, "UA": 1, "WRK": 1}
	if got := rowsWith(results, RuleHighBelowOC, RuleLowAboveOC); !maps.Equal(got, wantHL) || total(got) != 12 {
		t.Errorf("high/low rows: got %v, want %v (12)", got, wantHL)
	}
	// Zero volume: only in 4 of the empty-field rows.
	if got := rowsWith(results, RuleZeroVolume); !maps.Equal(got, map[string]int{"DHR": 1, "FTV": 1, "O": 1, "UA": 1}) {
		t.Errorf("zero_volume rows: got %v", got)
	}

	// 51 missing trading days in 6 tickers, as warnings; nothing else missing.
	wantDays := map[string]int{"O": 16, "DHR": 16, "ES": 10, "ICE": 5, "BMY": 2, "ORCL": 2}
	gotDays := map[string]int{}
	for _, r := range results {
		for _, a := range withRule(r.self, RuleGap) {
			if a.Severity != SeverityWarning {
				t.Errorf("%s: a gap in 2013–2018 is missing days, not a closure: %+v", r.ticker, a)
			}
			gotDays[r.ticker] += int(a.Value)
		}
	}
	if !maps.Equal(gotDays, wantDays) || total(gotDays) != 51 {
		t.Errorf("missing trading days: got %v, want %v (51)", gotDays, wantDays)
	}
}

func TestLNTBadTickIsAnOutlierReturn(t *testing.T) {
	b := loadBars(t, "sp500_5yr", "LNT_data.csv")
	cfg := DefaultConfig()
	check := func(name string, as []Anomaly) {
		t.Helper()
		a, ok := findAnomaly(as, RuleOutlierReturn, "2016-05-19", ColumnClose)
		if !ok {
			t.Fatalf("%s: no outlier_return on 2016-05-19: %+v", name, withRule(as, RuleOutlierReturn))
		}
		if a.Severity != SeverityWarning || a.Value > -20 || !strings.Contains(a.Detail, "bad tick") {
			t.Errorf("%s: %+v", name, a)
		}
		if _, ok := findAnomaly(as, RuleOutlierReturn, "2016-05-20", ColumnClose); !ok {
			t.Errorf("%s: the return back from the bad tick (2016-05-20) is not flagged", name)
		}
		if _, ok := findAnomaly(as, RuleLowAboveOC, "2016-05-19", ColumnLow); !ok {
			t.Errorf("%s: low 35.085 > close 17.87 not flagged", name)
		}
		if _, ok := findAnomaly(as, RuleOutlierReturn, "2016-05-19", ColumnOpen); ok {
			t.Errorf("%s: open 35.19 is fine, yet flagged", name)
		}
	}
	// Within the file: the training split against its own statistics.
	check("self", Detect(b, InferSchema(b), Describe(b, cfg.Bins), cfg))
	// In a later split against a training split that ends before it.
	cut := 700 // 2015-11-16
	train, split := b.Slice(0, cut), b.Slice(cut, b.Len())
	check("eval", Detect(split, InferSchema(train), Describe(train, cfg.Bins), cfg))
}

func TestSingleFileQuirksAreFound(t *testing.T) {
	results := validateAll(t, "single")
	byTicker := map[string]fileResult{}
	for _, r := range results {
		byTicker[r.ticker] = r
		for _, as := range [][]Anomaly{r.self, r.tail} {
			if crit := Critical(as); len(crit) != 0 {
				t.Errorf("%s: real data gave critical anomalies: %+v", r.ticker, crit)
			}
		}
		// The NYSE calendar explains every skipped weekday since 1962.
		for _, a := range withRule(r.self, RuleGap) {
			if a.Severity != SeverityInfo {
				t.Errorf("%s: no trading day is missing in single/, got %+v", r.ticker, a)
			}
		}
	}
	if len(byTicker) != 6 {
		t.Fatalf("want 6 single files, got %d", len(byTicker))
	}

	aapl := byTicker["AAPL"].self
	if got := withRule(aapl, RuleMissingValue); len(got) != 1 || got[0].Date != "1981-08-10" ||
		got[0].Column != "open,high,low,close,adj_close,volume" || got[0].Severity != SeverityWarning {
		t.Errorf("AAPL null row: got %+v", got)
	}

	var zero []string
	for _, a := range withRule(byTicker["IBM"].self, RuleZeroVolume) {
		zero = append(zero, a.Date)
	}
	if strings.Join(zero, " ") != "1973-10-09 1975-01-27 1982-01-08" {
		t.Errorf("IBM zero-volume rows: got %v", zero)
	}

	for _, ticker := range []string{"AAPL", "MSFT", "IBM", "AMZN"} {
		a, ok := findAnomaly(byTicker[ticker].self, RuleGap, "2001-09-17", "")
		if !ok || a.Severity != SeverityInfo || a.Value != 7 || !strings.Contains(a.Detail, "after 2001-09-10") {
			t.Errorf("%s: want the 9/11 closure as an info gap, got %+v", ticker, a)
		}
	}
	for _, ticker := range []string{"NFLX", "GOOGL"} {
		if _, ok := findAnomaly(byTicker[ticker].self, RuleGap, "2012-10-31", ""); !ok {
			t.Errorf("%s: want the Hurricane Sandy closure as a gap", ticker)
		}
	}
}

func TestNFLXNewDataHasNoCriticalAnomaly(t *testing.T) {
	train := loadBars(t, "single", "NFLX.csv")
	path := sharedtest.Path(t, "NFLX_2022_new.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fresh, err := frame.ParseCSV(f, "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	as := Detect(fresh, InferSchema(train), Describe(train, cfg.Bins), cfg)
	if crit := Critical(as); len(crit) != 0 {
		t.Fatalf("new NFLX data: %+v", crit)
	}
	if len(withRule(as, RuleGap)) != 0 {
		t.Fatalf("2022 has no gap: %+v", withRule(as, RuleGap))
	}
}
