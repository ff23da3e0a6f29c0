package validate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/sharedtest"
)

// loadBars parses a shared real-price file.
func loadBars(t testing.TB, parts ...string) *frame.Bars {
	t.Helper()
	b, err := parseFile(sharedtest.Path(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseFile parses a price CSV; the ticker is the file name up to "_" or
// ".".
func parseFile(path string) (*frame.Bars, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ticker, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(path), ".csv"), "_")
	b, err := frame.ParseCSV(f, ticker)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return b, nil
}

// synthBars generates n consistent daily bars on consecutive weekdays from
// start: Close follows log-returns N(drift, sigma²) drawn from seed; Open
// is the previous Close moved by a tenth of a return; High and Low enclose
// both.
func synthBars(seed uint64, n int, start time.Time, drift, sigma float64) *frame.Bars {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := &frame.Bars{Ticker: "SYN"}
	day, price := start, 100.0
	for range n {
		for isWeekend(day.Weekday()) {
			day = day.AddDate(0, 0, 1)
		}
		open := price * math.Exp(rng.NormFloat64()*sigma/10)
		price *= math.Exp(drift + sigma*rng.NormFloat64())
		b.Date = append(b.Date, day)
		b.Open = append(b.Open, open)
		b.High = append(b.High, max(open, price)*1.004)
		b.Low = append(b.Low, min(open, price)*0.996)
		b.Close = append(b.Close, price)
		b.AdjClose = append(b.AdjClose, price)
		b.Volume = append(b.Volume, 1e6+float64(rng.IntN(1000)))
		day = day.AddDate(0, 0, 1)
	}
	return b
}

// date parses YYYY-MM-DD.
func date(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse(frame.DateLayout, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withRule returns the anomalies of a rule.
func withRule(as []Anomaly, rule string) []Anomaly {
	var out []Anomaly
	for _, a := range as {
		if a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

// findAnomaly returns the first anomaly of rule on date (and column, when
// not empty).
func findAnomaly(as []Anomaly, rule, date, col string) (Anomaly, bool) {
	for _, a := range as {
		if a.Rule == rule && a.Date == date && (col == "" || a.Column == col) {
			return a, true
		}
	}
	return Anomaly{}, false
}

// rulesOf returns the set of rules found.
func rulesOf(as []Anomaly) map[string]bool {
	m := map[string]bool{}
	for _, a := range as {
		m[a.Rule] = true
	}
	return m
}
