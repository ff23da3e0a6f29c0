package validate

import "time"

// NextTradingDay returns the first NYSE trading day after t's calendar date
// (UTC midnight), by the calendar the validator checks files against:
// weekends, the regular holidays of their era and the listed special
// closures are passed over. Before 1962, where the calendar is not known,
// only weekends are. A closure not yet announced cannot be foreseen.
func NextTradingDay(t time.Time) time.Time {
	d := dayNumber(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC))
	for {
		d++
		wd := weekdayOf(d)
		if isWeekend(wd) {
			continue
		}
		y, m, dd := dateOf(d).Date()
		if !calendarKnown(y) || !nyseClosed(y, m, dd, wd) {
			return dateOf(d)
		}
	}
}
