package plots

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/finsight/finsight/internal/frame"
)

// File names of the standard sets.
const (
	RawPricesFile  = "raw_prices.png"
	RawVolumeFile  = "raw_volume.png"
	RefinedBoxFile = "refined_box.png"
	AnomaliesFile  = "anomalies.png"
)

// Splits returns the split names RefinedSet accepts, in drawing order.
func Splits() []string { return []string{"train", "val", "test"} }

// histBins is the number of bins of the standard histograms.
const histBins = 40

// RefinedLineFile names a split's Open line chart in RefinedSet, e.g.
// refined_train_line.png.
func RefinedLineFile(split string) string { return "refined_" + split + "_line.png" }

// RefinedHistFile names a split's Open histogram in RefinedSet.
func RefinedHistFile(split string) string { return "refined_" + split + "_hist.png" }

// RawSet renders the raw bars: Open and Close over time (raw_prices.png)
// and Volume (raw_volume.png).
func RawSet(b *frame.Bars) (map[string][]byte, error) {
	if err := checkBars(b); err != nil {
		return nil, fmt.Errorf("plots: raw set: %w", err)
	}
	out := map[string][]byte{}
	err := renderAll(out, []chart{
		{RawPricesFile, func(buf *bytes.Buffer) error {
			return Series(buf, b.Ticker+" raw prices", b.Date, []Line{{"Open", b.Open}, {"Close", b.Close}}, nil)
		}},
		{RawVolumeFile, func(buf *bytes.Buffer) error {
			return Bars(buf, b.Ticker+" raw volume", b.Date, b.Volume)
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("plots: raw set %s: %w", b.Ticker, err)
	}
	return out, nil
}

// RefinedSet renders the refined splits ("train", "val", "test"; any may
// be absent, other names are an error): each split's Open over time and
// its histogram, and one box plot of Open per split (refined_box.png).
func RefinedSet(splits map[string]*frame.Bars) (map[string][]byte, error) {
	names, err := orderedSplits(splits)
	if err != nil {
		return nil, fmt.Errorf("plots: refined set: %w", err)
	}
	out := map[string][]byte{}
	var groups []Group
	for _, name := range names {
		b := splits[name]
		title := fmt.Sprintf("%s refined %s Open", b.Ticker, name)
		err := renderAll(out, []chart{
			{RefinedLineFile(name), func(buf *bytes.Buffer) error {
				return Series(buf, title, b.Date, []Line{{"Open", b.Open}}, nil)
			}},
			{RefinedHistFile(name), func(buf *bytes.Buffer) error {
				return Histogram(buf, title+" distribution", b.Open, histBins)
			}},
		})
		if err != nil {
			return nil, fmt.Errorf("plots: refined set %s: %w", name, err)
		}
		groups = append(groups, Group{Name: name, Values: b.Open})
	}
	ticker := splits[names[0]].Ticker
	err = renderAll(out, []chart{{RefinedBoxFile, func(buf *bytes.Buffer) error {
		return BoxPlots(buf, ticker+" refined Open by split", groups)
	}}})
	if err != nil {
		return nil, fmt.Errorf("plots: refined set: %w", err)
	}
	return out, nil
}

// AnomalySet renders Open over time with the marks in red (anomalies.png).
// No marks is fine: the chart then shows none.
func AnomalySet(b *frame.Bars, marks []Mark) (map[string][]byte, error) {
	if err := checkBars(b); err != nil {
		return nil, fmt.Errorf("plots: anomaly set: %w", err)
	}
	out := map[string][]byte{}
	title := fmt.Sprintf("%s Open with %d anomalies", b.Ticker, len(marks))
	err := renderAll(out, []chart{{AnomaliesFile, func(buf *bytes.Buffer) error {
		return Series(buf, title, b.Date, []Line{{"Open", b.Open}}, marks)
	}}})
	if err != nil {
		return nil, fmt.Errorf("plots: anomaly set %s: %w", b.Ticker, err)
	}
	return out, nil
}

// orderedSplits returns the split names present, in Splits order.
func orderedSplits(splits map[string]*frame.Bars) ([]string, error) {
	known := Splits()
	for name := range splits {
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("unknown split %q (want one of %s)", name, strings.Join(known, ", "))
		}
	}
	var names []string
	for _, name := range known {
		b, ok := splits[name]
		if !ok {
			continue
		}
		if err := checkBars(b); err != nil {
			return nil, fmt.Errorf("split %s: %w", name, err)
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("no splits")
	}
	return names, nil
}

// checkBars rejects nil or empty bars and columns of another length than
// Date.
func checkBars(b *frame.Bars) error {
	if b == nil {
		return errors.New("nil bars")
	}
	if b.Len() == 0 {
		return fmt.Errorf("bars %s have no rows", b.Ticker)
	}
	for _, c := range []struct {
		name   string
		values []float64
	}{{"Open", b.Open}, {"Close", b.Close}, {"Volume", b.Volume}} {
		if len(c.values) != b.Len() {
			return fmt.Errorf("bars %s: %s has %d values for %d dates", b.Ticker, c.name, len(c.values), b.Len())
		}
	}
	return nil
}

// chart is one file of a set and how to draw it.
type chart struct {
	name string
	draw func(*bytes.Buffer) error
}

// renderAll draws each chart into out[name], stopping at the first error.
func renderAll(out map[string][]byte, charts []chart) error {
	for _, c := range charts {
		var buf bytes.Buffer
		if err := c.draw(&buf); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		out[c.name] = buf.Bytes()
	}
	return nil
}
