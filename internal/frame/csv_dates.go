package frame

import (
	"fmt"
	"strings"
	"time"
)

// Date orders of numeric dates.
const (
	orderYMD = iota
	orderMDY
	orderDMY
)

// dateFormat parses one date field of a file.
type dateFormat struct {
	name   string // as --date-format spells it, e.g. MM/DD/YYYY
	order  int    // numeric dates: orderYMD, orderMDY, orderDMY
	sep    byte   // numeric dates: the separator, 0 for YYYYMMDD
	layout string // other dates: a Go time layout
}

// parse reads b as a UTC midnight; a time of day after the date is
// dropped. ok is false when b is not a date in this format.
func (f *dateFormat) parse(b []byte) (time.Time, bool) {
	if f.layout != "" {
		t, err := time.Parse(f.layout, string(b))
		if err != nil {
			return time.Time{}, false
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	}
	y, m, d, rest, ok := numericDate(b, f.order, f.sep)
	if !ok || !timeOfDay(rest) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

// numericDate reads three numbers in order, separated by sep (fixed widths
// 4-2-2 when sep is 0), and checks the calendar.
func numericDate(b []byte, order int, sep byte) (y, m, d int, rest []byte, ok bool) {
	var p [3]int
	if sep == 0 {
		if len(b) < 8 {
			return 0, 0, 0, nil, false
		}
		var ok1, ok2, ok3 bool
		p[0], ok1 = digitsB(b[0:4])
		p[1], ok2 = digitsB(b[4:6])
		p[2], ok3 = digitsB(b[6:8])
		if !ok1 || !ok2 || !ok3 {
			return 0, 0, 0, nil, false
		}
		rest = b[8:]
	} else {
		for i := range 3 {
			j := 0
			for j < len(b) && j < 5 && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if j == 0 {
				return 0, 0, 0, nil, false
			}
			p[i], _ = digitsB(b[:j])
			b = b[j:]
			if i < 2 {
				if len(b) == 0 || b[0] != sep {
					return 0, 0, 0, nil, false
				}
				b = b[1:]
			}
		}
		rest = b
	}
	switch order {
	case orderYMD:
		y, m, d = p[0], p[1], p[2]
	case orderMDY:
		m, d, y = p[0], p[1], p[2]
	default:
		d, m, y = p[0], p[1], p[2]
	}
	if y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return 0, 0, 0, nil, false
	}
	return y, m, d, rest, true
}

// timeOfDay accepts what may follow a date on daily data: nothing, or a
// time of day ("T00:00:00Z", " 16:00:00", " 00:00:00-05:00").
func timeOfDay(rest []byte) bool {
	if len(rest) == 0 {
		return true
	}
	if rest[0] != ' ' && rest[0] != 'T' {
		return false
	}
	rest = trimSpace(rest[1:])
	return len(rest) >= 4 && rest[0] >= '0' && rest[0] <= '9' && (rest[1] == ':' || rest[2] == ':')
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func digitsB(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// monthNameLayouts are the dates with month names the reader detects.
var monthNameLayouts = []struct{ name, layout string }{
	{"MMM D, YYYY", "Jan 2, 2006"},
	{"MMMM D, YYYY", "January 2, 2006"},
	{"D-MMM-YYYY", "2-Jan-2006"},
	{"D MMM YYYY", "2 Jan 2006"},
	{"D-MMM-YY", "2-Jan-06"},
	{"YYYY-MMM-D", "2006-Jan-2"},
}

func numericFormat(order int, sep byte) dateFormat {
	if sep == 0 {
		return dateFormat{name: "YYYYMMDD", order: orderYMD}
	}
	s := string(sep)
	name := map[int]string{orderYMD: "YYYY" + s + "MM" + s + "DD", orderMDY: "MM" + s + "DD" + s + "YYYY", orderDMY: "DD" + s + "MM" + s + "YYYY"}[order]
	return dateFormat{name: name, order: order, sep: sep}
}

// compileDateFormat reads a --date-format: YYYY-MM-DD, MM/DD/YYYY,
// DD/MM/YYYY, DD.MM.YYYY, YYYYMMDD (any of - / . as separator, M and D for
// unpadded numbers alike), MMM D, YYYY and the like with month names, YY
// for two-digit years, or a Go time layout (2006-01-02).
func compileDateFormat(spec string) (dateFormat, error) {
	s := strings.ToUpper(strings.TrimSpace(spec))
	if strings.Contains(spec, "2006") {
		return dateFormat{name: spec, layout: spec}, nil
	}
	if s == "YYYYMMDD" {
		return numericFormat(orderYMD, 0), nil
	}
	for _, sep := range []byte{'-', '/', '.'} {
		parts := strings.Split(s, string(sep))
		if len(parts) != 3 {
			continue
		}
		key := strings.NewReplacer("MM", "M", "DD", "D").Replace(strings.Join(parts, " "))
		switch key {
		case "YYYY M D":
			return numericFormat(orderYMD, sep), nil
		case "M D YYYY":
			return numericFormat(orderMDY, sep), nil
		case "D M YYYY":
			return numericFormat(orderDMY, sep), nil
		}
	}
	layout, err := goLayout(s)
	if err != nil {
		return dateFormat{}, fmt.Errorf("date format %q: %v (formats: YYYY-MM-DD, MM/DD/YYYY, DD/MM/YYYY, DD.MM.YYYY, YYYYMMDD, MMM D, YYYY, MM/DD/YY, or a Go layout like 2006-01-02)", spec, err)
	}
	return dateFormat{name: spec, layout: layout}, nil
}

// goLayout turns YYYY/YY/MMMM/MMM/MM/M/DD/D tokens into a Go layout.
func goLayout(s string) (string, error) {
	tokens := []struct {
		tok, layout string
		part        int // 0 year, 1 month, 2 day
	}{
		{"YYYY", "2006", 0}, {"YY", "06", 0}, {"MMMM", "January", 1}, {"MMM", "Jan", 1}, {"MM", "01", 1}, {"M", "1", 1}, {"DD", "02", 2}, {"D", "2", 2},
	}
	var out strings.Builder
	var seen [3]bool
next:
	for len(s) > 0 {
		for _, t := range tokens {
			if strings.HasPrefix(s, t.tok) {
				out.WriteString(t.layout)
				seen[t.part] = true
				s = s[len(t.tok):]
				continue next
			}
		}
		if c := s[0]; c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return "", fmt.Errorf("unknown token at %q", s)
		}
		out.WriteByte(s[0])
		s = s[1:]
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return "", fmt.Errorf("needs a year, a month and a day")
	}
	return out.String(), nil
}

// sniffDates picks the date format the sample's dates share. A day/month
// order that no sample date settles is refused, never guessed.
func sniffDates(sample []sampleValue, column string) (dateFormat, error) {
	first := sample[0]
	v := first.text
	if f, ok := isoLike(v); ok {
		return f, checkAll(f, sample, column)
	}
	if len(v) >= 8 && allDigits(v[:8]) && (len(v) == 8 || !isDigit(v[8])) {
		f := numericFormat(orderYMD, 0)
		return f, checkAll(f, sample, column)
	}
	if sep, ok := yearLast(v); ok {
		return settleDayMonth(sample, sep, column)
	}
	for _, m := range monthNameLayouts {
		f := dateFormat{name: m.name, layout: m.layout}
		if _, ok := f.parse(v); ok {
			return f, checkAll(f, sample, column)
		}
	}
	hint := "name the format with --date-format (a /predict upload: the date_format field)"
	if yearLastShort(v) {
		hint = "two-digit years: name the format, e.g. --date-format MM/DD/YY"
	}
	return dateFormat{}, &CSVError{Line: first.line, Column: column, Value: shown(v),
		Expected: "a date like 2020-12-31, 12/31/2020, 31.12.2020, 20201231 or Dec 31, 2020", Hint: hint}
}

// isoLike: YYYY-MM-DD (or with / or . between).
func isoLike(v []byte) (dateFormat, bool) {
	if len(v) < 8 || !allDigits(v[:4]) {
		return dateFormat{}, false
	}
	sep := v[4]
	if sep != '-' && sep != '/' && sep != '.' {
		return dateFormat{}, false
	}
	return numericFormat(orderYMD, sep), true
}

// yearLast: N/N/YYYY with one of / - . as separator.
func yearLast(v []byte) (byte, bool) {
	for _, sep := range []byte{'/', '-', '.'} {
		if _, _, _, _, ok := numericDate(v, orderMDY, sep); ok {
			return sep, true
		}
		if _, _, _, _, ok := numericDate(v, orderDMY, sep); ok {
			return sep, true
		}
	}
	return 0, false
}

func yearLastShort(v []byte) bool {
	parts := strings.FieldsFunc(string(v), func(r rune) bool { return r == '/' || r == '-' || r == '.' })
	return len(parts) == 3 && len(parts[2]) == 2 && allDigits([]byte(parts[2]))
}

// settleDayMonth chooses MM/DD/YYYY or DD/MM/YYYY by a sample date whose
// first or second number is above 12.
func settleDayMonth(sample []sampleValue, sep byte, column string) (dateFormat, error) {
	mdy, dmy := -1, -1
	for i, s := range sample {
		_, _, _, _, okM := numericDate(s.text, orderMDY, sep)
		_, _, _, _, okD := numericDate(s.text, orderDMY, sep)
		switch {
		case okM && !okD && mdy < 0:
			mdy = i
		case okD && !okM && dmy < 0:
			dmy = i
		case !okM && !okD:
			return dateFormat{}, &CSVError{Line: s.line, Column: column, Value: shown(s.text),
				Expected: fmt.Sprintf("a date like the rows above (N%cN%cYYYY)", sep, sep), Hint: "correct the date or remove the row"}
		}
	}
	f := func(order int) dateFormat { return numericFormat(order, sep) }
	switch {
	case mdy >= 0 && dmy >= 0:
		a, b := sample[mdy], sample[dmy]
		return dateFormat{}, &CSVError{Line: b.line, Column: column, Value: shown(b.text),
			Expected: fmt.Sprintf("one day/month order: %q on line %d is month-first, this one is day-first", a.text, a.line),
			Hint:     "fix the mixed dates, or name the format with --date-format"}
	case mdy >= 0:
		return f(orderMDY), nil
	case dmy >= 0:
		return f(orderDMY), nil
	}
	s := sample[0]
	us, eu := f(orderMDY).name, f(orderDMY).name
	return dateFormat{}, &CSVError{Line: s.line, Column: column, Value: shown(s.text),
		Expected: fmt.Sprintf("a day/month order the file settles: none of the first %d dates has a day above 12, so %s and %s both fit", len(sample), us, eu),
		Hint:     fmt.Sprintf("choose with --date-format %s or --date-format %s (a /predict upload: the date_format field; an inbox file: a JSON sidecar)", us, eu)}
}

// checkAll refuses the first sample date that f does not read.
func checkAll(f dateFormat, sample []sampleValue, column string) error {
	for _, s := range sample {
		if _, ok := f.parse(s.text); !ok {
			return &CSVError{Line: s.line, Column: column, Value: shown(s.text), Expected: "a date as " + f.name + ", like the rows above",
				Hint: "correct the date or remove the row"}
		}
	}
	return nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
