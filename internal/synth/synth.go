// Package synth generates seeded, synthetic daily OHLCV prices for demos
// that must run with no data and no network. Its output is labelled as
// synthetic wherever it is shown.
package synth

import (
	"fmt"
	"io"
	"math"
	"math/rand"
	"time"
)

// Options shape a series: a geometric Brownian motion with a slow cycle, so
// there is something for a model to learn beyond the random walk.
type Options struct {
	Seed    int64
	Days    int       // trading days
	Start   time.Time // first trading day
	Price   float64   // first Open
	Drift   float64   // daily drift of log price
	Vol     float64   // daily volatility of log price
	Cycle   float64   // amplitude of a 60-day cycle in log price
	Missing int       // rows written as "null" (a real quirk of Yahoo files)
}

// Defaults is the demo's series: about six years of trading days.
func Defaults() Options {
	return Options{Seed: 1, Days: 1500, Start: time.Date(2015, 1, 2, 0, 0, 0, 0, time.UTC),
		Price: 100, Drift: 0.0003, Vol: 0.015, Cycle: 0.05, Missing: 2}
}

// WriteCSV writes the series with the Yahoo header.
func WriteCSV(w io.Writer, o Options) error {
	if o.Days < 2 || o.Price <= 0 {
		return fmt.Errorf("synth: need at least 2 days and a positive price, got %d and %g", o.Days, o.Price)
	}
	rng := rand.New(rand.NewSource(o.Seed))
	if _, err := fmt.Fprintln(w, "Date,Open,High,Low,Close,Adj Close,Volume"); err != nil {
		return fmt.Errorf("synth: write header: %w", err)
	}
	logP := math.Log(o.Price)
	day := o.Start
	missing := map[int]bool{}
	for i := 0; i < o.Missing; i++ {
		missing[o.Days/3+i*o.Days/5] = true
	}
	for i := 0; i < o.Days; i++ {
		cycle := o.Cycle * math.Sin(2*math.Pi*float64(i)/60)
		open := math.Exp(logP + cycle)
		logP += o.Drift + o.Vol*rng.NormFloat64()
		closeP := math.Exp(logP + o.Cycle*math.Sin(2*math.Pi*float64(i+1)/60))
		high := math.Max(open, closeP) * (1 + 0.5*o.Vol*math.Abs(rng.NormFloat64()))
		low := math.Min(open, closeP) * (1 - 0.5*o.Vol*math.Abs(rng.NormFloat64()))
		vol := int64(1e6 * (1 + 0.3*math.Abs(rng.NormFloat64())))
		var err error
		if missing[i] {
			_, err = fmt.Fprintf(w, "%s,null,null,null,null,null,null\n", day.Format("2006-01-02"))
		} else {
			_, err = fmt.Fprintf(w, "%s,%.4f,%.4f,%.4f,%.4f,%.4f,%d\n", day.Format("2006-01-02"), open, high, low, closeP, closeP, vol)
		}
		if err != nil {
			return fmt.Errorf("synth: write row %d: %w", i, err)
		}
		day = nextTradingDay(day)
	}
	return nil
}

func nextTradingDay(d time.Time) time.Time {
	d = d.AddDate(0, 0, 1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}
