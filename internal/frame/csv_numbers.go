package frame

import (
	"bytes"
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// numberStyle is how a file writes numbers: its decimal separator ('.' or
// ','); the other one may group thousands.
type numberStyle struct {
	decimal byte
}

func (ns numberStyle) thousands() byte {
	if ns.decimal == ',' {
		return '.'
	}
	return ','
}

// parse reads a price or volume. Missing values (empty, null, NaN, N/A, -)
// are NaN. On failure it returns what was expected instead.
func (ns numberStyle) parse(b []byte, volume bool) (float64, string) {
	plain := len(b) > 0
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c == '.' && ns.decimal == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			plain = false
			break
		}
	}
	if plain {
		// strconv copies the text into any error it returns, so reading
		// b in place is safe and keeps the hot path free of allocation.
		if v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64); err == nil {
			return v, ""
		}
	}
	return ns.parseSlow(b, volume)
}

func (ns numberStyle) parseSlow(b []byte, volume bool) (float64, string) {
	if isMissing(b) {
		return math.NaN(), ""
	}
	var buf [64]byte
	digits, mult, problem := ns.normalise(b, volume, buf[:0])
	if problem != "" {
		return 0, problem
	}
	v, err := strconv.ParseFloat(string(digits), 64)
	if err != nil || math.IsInf(v*mult, 0) { // a K/M/B suffix can carry a huge number past the range
		return 0, ns.want(volume)
	}
	return v * mult, ""
}

// want says what a number field should hold.
func (ns numberStyle) want(volume bool) string {
	what := "a price like 1234" + string(ns.decimal) + "56"
	if volume {
		what = "a volume like 1234567"
	}
	return what + " (currency symbols, thousands separators '" + string(ns.thousands()) + "' and empty/null for missing are fine)"
}

// normalise drops currency symbols, spaces and thousands separators (which
// must group digits by three), turns the decimal separator into '.', and
// reads a K/M/B suffix on volumes.
func (ns numberStyle) normalise(b []byte, volume bool, out []byte) ([]byte, float64, string) {
	mult := 1.0
	if volume {
		switch b[len(b)-1] | 0x20 {
		case 'k':
			mult, b = 1e3, trimSpace(b[:len(b)-1])
		case 'm':
			mult, b = 1e6, trimSpace(b[:len(b)-1])
		case 'b':
			mult, b = 1e9, trimSpace(b[:len(b)-1])
		}
	}
	th := ns.thousands()
	group, seenDecimal, seenThousands := -1, false, false // group: digits since the last thousands separator
	lead := 0                                             // digits before the first thousands separator
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r >= '0' && r <= '9':
			out = append(out, byte(r))
			if group >= 0 && !seenDecimal {
				group++
			} else if group < 0 {
				lead++
			}
		case r == rune(ns.decimal):
			if seenDecimal || seenThousands && group != 3 {
				return nil, 0, ns.want(volume)
			}
			seenDecimal = true
			out = append(out, '.')
		case r == rune(th) || r == '\'' || r == '’':
			if seenDecimal || group >= 0 && group != 3 || group < 0 && (lead == 0 || lead > 3) {
				return nil, 0, ns.want(volume) + "; '" + string(r) + "' is neither a thousands separator here nor the decimal separator '" + string(ns.decimal) + "'"
			}
			group, seenThousands = 0, true
		case r == '-' || r == '+' || r == 'e' || r == 'E':
			out = append(out, byte(r))
		case r == ' ' || r == '\u00a0' || r == '\u202f' || unicode.Is(unicode.Sc, r):
		case r == '%':
			return nil, 0, ns.want(volume) + "; a percentage is not a price"
		default:
			return nil, 0, ns.want(volume)
		}
		if len(out) > 40 {
			return nil, 0, ns.want(volume)
		}
	}
	if seenThousands && !seenDecimal && group != 3 {
		return nil, 0, ns.want(volume)
	}
	return out, mult, ""
}

var missingWords = [][]byte{[]byte("null"), []byte("nan"), []byte("n/a"), []byte("na"), []byte("-"), []byte("none"), []byte("#n/a")}

func isMissing(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	for _, w := range missingWords {
		if bytes.EqualFold(b, w) {
			return true
		}
	}
	return false
}

// sniffDecimal chooses the decimal separator of a file separated by ; tab
// or |, from numbers that settle it: one with both '.' and ',' (the last is
// the decimal), or one separator not followed by exactly three digits. ok
// is false when no number settles it.
func sniffDecimal(values []sampleValue) (decimal byte, ok bool) {
	for _, s := range values {
		v := s.text
		dot, comma := bytes.LastIndexByte(v, '.'), bytes.LastIndexByte(v, ',')
		switch {
		case dot >= 0 && comma >= 0:
			if dot > comma {
				return '.', true
			}
			return ',', true
		case comma >= 0 && (bytes.Count(v, []byte{','}) > 1):
			return '.', true // 1,234,567
		case dot >= 0 && (bytes.Count(v, []byte{'.'}) > 1):
			return ',', true // 1.234.567
		case comma >= 0 && digitsAfter(v, comma) != 3:
			return ',', true
		case dot >= 0 && digitsAfter(v, dot) != 3:
			return '.', true
		}
	}
	return 0, false
}

func digitsAfter(v []byte, i int) int {
	n := 0
	for _, c := range v[i+1:] {
		if !isDigit(c) {
			break
		}
		n++
	}
	return n
}
