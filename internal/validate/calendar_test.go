package validate

import (
	"testing"
)

func TestNYSEClosedOnHolidaysAndClosures(t *testing.T) {
	closed := []string{
		"2016-03-25", // Good Friday
		"2022-06-20", // Juneteenth (Sunday) observed on Monday
		"2021-12-24", // Christmas (Saturday) observed on Friday
		"2017-01-02", // New Year's Day (Sunday) observed on Monday
		"1998-01-19", // first Martin Luther King Jr. Day
		"1970-02-23", // Washington's Birthday (Sunday Feb 22) before the Monday rule
		"1969-02-21", // Washington's Birthday (Saturday Feb 22) observed on Friday
		"1965-05-31", // Memorial Day (Sunday May 30) observed on Monday
		"1980-11-04", // presidential election day
		"1968-11-05", // election day, every year until 1968
		"2020-11-26", // Thanksgiving
		"1968-06-12", // paperwork crisis Wednesday
		"2001-09-13", // September 11
		"2012-10-30", // Hurricane Sandy
		"2018-12-05", // George H. W. Bush
	}
	for _, s := range closed {
		d := date(t, s)
		if !nyseClosed(d.Year(), d.Month(), d.Day(), d.Weekday()) {
			t.Errorf("%s (%s): want closed", s, d.Weekday())
		}
	}
	open := []string{
		"2021-12-31", // New Year's Day on Saturday is not observed on Friday
		"1970-05-29", // Memorial Day on Saturday (1970) was not observed
		"1969-11-04", // no election-day closure in 1969
		"2016-03-24", // Thursday before Good Friday
		"2020-11-27", // day after Thanksgiving
		"2021-06-18", // Juneteenth only from 2022
		"1997-01-20", // MLK Day only from 1998
		"1968-07-03", // paperwork crisis: open in the week of July 4
	}
	for _, s := range open {
		d := date(t, s)
		if nyseClosed(d.Year(), d.Month(), d.Day(), d.Weekday()) {
			t.Errorf("%s (%s): want open", s, d.Weekday())
		}
	}
}

func TestEasterKnownDates(t *testing.T) {
	for _, s := range []string{"1962-04-22", "2000-04-23", "2016-03-27", "2019-04-21", "2038-04-25"} {
		d := date(t, s)
		m, dd := easter(d.Year())
		if m != d.Month() || dd != d.Day() {
			t.Errorf("easter(%d) = %s %d, want %s", d.Year(), m, dd, s)
		}
	}
}

func TestMissingTradingDaysCountsAndFirst(t *testing.T) {
	prev, cur := dayNumber(date(t, "2015-03-06")), dayNumber(date(t, "2015-03-23"))
	n, first := missingTradingDays(prev, cur)
	if n != 10 || dateOf(first).Format(dateLayout) != "2015-03-09" {
		t.Fatalf("2015-03-06 → 2015-03-23: got %d from %s, want 10 from 2015-03-09", n, dateOf(first).Format(dateLayout))
	}
	if n, first := missingTradingDays(dayNumber(date(t, "2001-09-10")), dayNumber(date(t, "2001-09-17"))); n != 0 || first != -1 {
		t.Fatalf("9/11 closure: got %d missing (first %d), want none", n, first)
	}
}
