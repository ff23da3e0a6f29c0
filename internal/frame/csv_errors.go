package frame

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CSVError is a refusal of a price file: where, what, what was expected and
// how to fix it.
type CSVError struct {
	Line     int    // 1-based line of the file
	Column   string // the header name, or "" when the whole line is meant
	Value    string // the offending text, shortened
	Expected string // what the reader wanted there
	Hint     string // how to fix it, or ""
}

func (e *CSVError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, ": %q", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Expected)
	if e.Hint != "" {
		b.WriteString(" — ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// shown shortens a value for a message: at most 40 runes, control
// characters and invalid UTF-8 escaped by %q.
func shown(b []byte) string {
	const most = 40
	s := string(b)
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	r := []rune(s)
	return string(r[:most]) + "…"
}
