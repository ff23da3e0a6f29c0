package validate

import "time"

// The NYSE calendar: which weekdays the exchange was closed, from 1962 on.
// Regular holidays follow the rules of their era; special closures
// (funerals, storms, the 1968 paperwork crisis, 9/11) are listed. Before
// calendarStart missing trading days cannot be told from closures.
const calendarStart = 1962

// calendarKnown reports whether the calendar covers year y.
func calendarKnown(y int) bool { return y >= calendarStart }

// missingTradingDays counts the NYSE trading days strictly between the day
// numbers prev and cur, and returns the first of them (-1 when none).
// Days before calendarStart count as closed.
func missingTradingDays(prev, cur int64) (n int, first int64) {
	first = -1
	for d := prev + 1; d < cur; d++ {
		if isWeekend(weekdayOf(d)) {
			continue
		}
		y, m, dd := dateOf(d).Date()
		if !calendarKnown(y) || nyseClosed(y, m, dd, weekdayOf(d)) {
			continue
		}
		if first < 0 {
			first = d
		}
		n++
	}
	return n, first
}

// nyseClosed reports whether the NYSE was closed on the weekday y-m-d.
func nyseClosed(y int, m time.Month, d int, wd time.Weekday) bool {
	return regularHoliday(y, m, d, wd) || specialClosure(y*10000+int(m)*100+d)
}

// regularHoliday applies the holiday rules in force in year y. A holiday
// on a Saturday moves to the Friday and on a Sunday to the Monday, except
// New Year's Day and (before 1971) Memorial Day, which are not observed on
// a Friday.
func regularHoliday(y int, m time.Month, d int, wd time.Weekday) bool {
	switch m {
	case time.January:
		return observedNoFriday(1, d, wd) ||
			(y >= 1998 && wd == time.Monday && d >= 15 && d <= 21) // Martin Luther King Jr. Day
	case time.February: // Washington's Birthday
		if y >= 1971 {
			return wd == time.Monday && d >= 15 && d <= 21
		}
		return observed(22, d, wd)
	case time.March, time.April:
		return isGoodFriday(y, m, d)
	case time.May: // Memorial Day
		if y >= 1971 {
			return wd == time.Monday && d >= 25
		}
		return observedNoFriday(30, d, wd)
	case time.June: // Juneteenth
		return y >= 2022 && observed(19, d, wd)
	case time.July:
		return observed(4, d, wd)
	case time.September: // Labor Day
		return wd == time.Monday && d <= 7
	case time.November:
		electionYear := y <= 1968 || y == 1972 || y == 1976 || y == 1980
		return (electionYear && wd == time.Tuesday && d >= 2 && d <= 8) ||
			(wd == time.Thursday && d >= 22 && d <= 28) // Thanksgiving
	case time.December:
		return observed(25, d, wd)
	}
	return false
}

// observed reports whether weekday d is the observed day of a holiday on
// day h of the month (Saturday → Friday, Sunday → Monday).
func observed(h, d int, wd time.Weekday) bool {
	return d == h || (d == h-1 && wd == time.Friday) || (d == h+1 && wd == time.Monday)
}

// observedNoFriday is observed without the Saturday → Friday move.
func observedNoFriday(h, d int, wd time.Weekday) bool {
	return d == h || (d == h+1 && wd == time.Monday)
}

// isGoodFriday reports the Friday before Easter Sunday.
func isGoodFriday(y int, m time.Month, d int) bool {
	em, ed := easter(y)
	gf := time.Date(y, em, ed-2, 0, 0, 0, 0, time.UTC)
	return gf.Month() == m && gf.Day() == d
}

// easter returns the Gregorian Easter Sunday of year y (anonymous
// Gregorian algorithm).
func easter(y int) (time.Month, int) {
	a, b, c := y%19, y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	mm := (a + 11*h + 22*l) / 451
	n := h + l - 7*mm + 114
	return time.Month(n / 31), n%31 + 1
}

// specialClosure reports the NYSE's unscheduled full-day closures since
// 1962, keyed YYYYMMDD.
func specialClosure(key int) bool {
	switch key {
	case 19631125, // President Kennedy's funeral
		19640529, // Friday before Memorial Day
		19680212, // Lincoln's Birthday
		19680409, // Martin Luther King Jr.'s day of mourning
		19680705, // day after Independence Day
		19681111, // Veterans Day
		19690210, // snow
		19690331, // President Eisenhower's funeral
		19690721, // Apollo 11 moon landing
		19721228, // President Truman's funeral
		19730125, // President Johnson's funeral
		19770714, // New York City blackout
		19850927, // Hurricane Gloria
		19940427, // President Nixon's funeral
		20010911, // September 11 attacks, four days
		20010912,
		20010913,
		20010914,
		20040611, // President Reagan's funeral
		20070102, // President Ford's day of mourning
		20121029, // Hurricane Sandy, two days
		20121030,
		20181205, // President George H. W. Bush's day of mourning
		20250109: // President Carter's day of mourning
		return true
	case 19680612, 19680619, 19680626, 19680710, 19680717, 19680724, 19680731,
		19680807, 19680814, 19680821, 19680828, 19680911, 19680918, 19680925,
		19681002, 19681009, 19681016, 19681023, 19681030, 19681120, 19681204,
		19681211, 19681218: // 1968 paperwork crisis: Wednesdays closed
		return true
	}
	return false
}
