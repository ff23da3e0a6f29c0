package validate

import (
	"testing"
	"time"
)

func TestNextTradingDay(t *testing.T) {
	for _, tc := range []struct{ from, want string }{
		{"2010-07-01", "2010-07-02"}, // Thursday → Friday
		{"2010-07-02", "2010-07-06"}, // Friday → past the weekend and Independence Day observed on Monday
		{"2010-04-01", "2010-04-05"}, // Thursday → past Good Friday
		{"2022-06-17", "2022-06-21"}, // Friday → past Juneteenth observed on Monday
		{"2012-10-26", "2012-10-31"}, // Friday → past Hurricane Sandy
		{"2022-12-31", "2023-01-03"}, // Saturday → past New Year's Day observed on Monday
		{"1955-12-30", "1956-01-02"}, // before the calendar: weekends only
	} {
		from, _ := time.Parse(time.DateOnly, tc.from)
		if got := NextTradingDay(from).Format(time.DateOnly); got != tc.want {
			t.Errorf("NextTradingDay(%s) = %s, want %s", tc.from, got, tc.want)
		}
	}
}
