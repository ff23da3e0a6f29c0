package plots

import (
	"math"
	"time"

	"gonum.org/v1/plot"
)

// dateStep is a tick spacing on a date axis.
type dateStep struct {
	years, months, days int
	format              string
}

// approx is the step's rough length in seconds.
func (s dateStep) approx() float64 {
	return (float64(s.years)*365.25 + float64(s.months)*30.44 + float64(s.days)) * 86400
}

// dateSteps returns the tick spacings from fine to coarse.
func dateSteps() []dateStep {
	return []dateStep{
		{days: 1, format: "2006-01-02"},
		{days: 2, format: "2006-01-02"},
		{days: 7, format: "2006-01-02"},
		{days: 14, format: "2006-01-02"},
		{months: 1, format: "2006-01"},
		{months: 2, format: "2006-01"},
		{months: 3, format: "2006-01"},
		{months: 6, format: "2006-01"},
		{years: 1, format: "2006"},
		{years: 2, format: "2006"},
		{years: 5, format: "2006"},
		{years: 10, format: "2006"},
		{years: 20, format: "2006"},
		{years: 50, format: "2006"},
		{years: 100, format: "2006"},
	}
}

// maxDateTicks is the most labelled ticks on a date axis.
const maxDateTicks = 8

// dateTicks labels an axis of unix seconds with calendar-aligned dates.
type dateTicks struct{}

var _ plot.Ticker = dateTicks{}

// Ticks implements plot.Ticker.
func (dateTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return nil
	}
	steps := dateSteps()
	step := steps[len(steps)-1]
	for _, s := range steps {
		if (max-min)/s.approx() <= maxDateTicks {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for t := alignDown(time.Unix(int64(math.Floor(min)), 0).UTC(), step); unixX(t) <= max; t = t.AddDate(step.years, step.months, step.days) {
		if unixX(t) >= min {
			ticks = append(ticks, plot.Tick{Value: unixX(t), Label: t.Format(step.format)})
		}
		if len(ticks) > 2*maxDateTicks {
			break
		}
	}
	return ticks
}

// alignDown returns the first step boundary at or before t: a day, the
// first of a month whose index is a multiple of the step, or 1 January of
// a year that is.
func alignDown(t time.Time, s dateStep) time.Time {
	y, m, d := t.Date()
	switch {
	case s.years > 0:
		return time.Date(y-y%s.years, time.January, 1, 0, 0, 0, 0, time.UTC)
	case s.months > 0:
		return time.Date(y, m-time.Month((int(m)-1)%s.months), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
