package frame

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// lineSource hands out a file's lines, bounded in length, with line
// endings (\n, \r\n or a lone \r) and a UTF-8 BOM removed, and lines that
// continue inside a quoted field joined.
type lineSource struct {
	br   *bufio.Reader
	max  int
	term byte   // '\n', or '\r' for files with lone-CR line endings
	line int    // number of the last line handed out
	join []byte // lines of one quoted field, joined
}

func newLineSource(r io.Reader, max int) (*lineSource, error) {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	s := &lineSource{br: bufio.NewReaderSize(r, max), max: max, term: '\n'}
	head, err := s.br.Peek(max)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return nil, &CSVError{Line: 1, Expected: "a UTF-8 text file, not UTF-16",
			Hint: "save the file as CSV UTF-8 (Excel: Save As, CSV UTF-8)"}
	}
	if bytes.HasPrefix(head, []byte("\ufeff")) {
		_, _ = s.br.Discard(3)
		head = head[3:]
	}
	if bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(head, '\r') >= 0 {
		s.term = '\r' // classic Mac line endings
	}
	return s, nil
}

// next returns the next line (valid until the following call) and its
// number; io.EOF after the last.
func (s *lineSource) next() ([]byte, int, error) {
	l, err := s.physical()
	if err != nil || bytes.IndexByte(l, '"') < 0 || quotesBalanced(l) {
		return l, s.line, err
	}
	first := s.line
	s.join = append(s.join[:0], l...)
	for !quotesBalanced(s.join) {
		more, err := s.physical()
		if errors.Is(err, io.EOF) {
			return nil, first, &CSVError{Line: first, Expected: "a closing quote for the quoted field that starts here",
				Hint: "a field that starts with \" must end with \"; a quote inside it is written \"\""}
		}
		if err != nil {
			return nil, first, err
		}
		if len(s.join)+1+len(more) > s.max {
			return nil, first, &CSVError{Line: first, Expected: fmt.Sprintf("a closing quote for the quoted field that starts here, within %d bytes", s.max),
				Hint: "a field that starts with \" must end with \"; a quote inside it is written \"\"; nothing after this was read"}
		}
		s.join = append(append(s.join, '\n'), more...)
	}
	return s.join, first, nil
}

// physical reads one line as stored.
func (s *lineSource) physical() ([]byte, error) {
	l, err := s.br.ReadSlice(s.term)
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, s.tooLong(s.line+1, l)
	case errors.Is(err, io.EOF) && len(l) == 0:
		return nil, io.EOF
	case err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("read csv line %d: %w", s.line+1, err)
	}
	s.line++
	if n := len(l); n > 0 && l[n-1] == s.term {
		l = l[:n-1]
	}
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l, nil
}

// tooLong refuses line, whose first bytes are start.
func (s *lineSource) tooLong(line int, start []byte) error {
	return &CSVError{Line: line, Value: shown(start[:min(len(start), 160)]), Expected: fmt.Sprintf("a line under %d bytes (a daily price row is under 200)", s.max),
		Hint: "this is not a daily price file, or its lines are not separated by line breaks; nothing after this line was read"}
}

func quotesBalanced(l []byte) bool { return bytes.Count(l, []byte{'"'})%2 == 0 }

// checkText refuses a line holding control characters (a binary file) and
// turns a line that is not valid UTF-8 into UTF-8 read as Latin-1 (the
// Windows exports of European spreadsheets), so header names compare.
func checkText(l []byte, line int, scratch []byte) ([]byte, error) {
	ascii := true
	for i, c := range l {
		if c < 0x20 && c != '\t' && c != '\n' {
			return nil, &CSVError{Line: line, Value: fmt.Sprintf("byte 0x%02x at position %d", c, i+1),
				Expected: "text: this looks like a binary file, not a CSV", Hint: "export the prices as CSV text"}
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if ascii || utf8.Valid(l) {
		return l, nil
	}
	out := scratch[:0]
	for _, c := range l {
		r := rune(c)
		if c == 0x80 {
			r = '€' // Windows-1252, the Latin-1 that Windows writes
		}
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}

// splitter cuts lines into fields at one delimiter, unquoting quoted
// fields. Fields are sub-slices of the line or of its scratch buffer and
// are valid until the next split.
type splitter struct {
	delim   byte
	fields  [][]byte
	scratch []byte
}

// split returns the fields of l, each trimmed of surrounding spaces.
func (sp *splitter) split(l []byte) [][]byte {
	sp.fields = sp.fields[:0]
	if bytes.IndexByte(l, '"') < 0 {
		for {
			i := bytes.IndexByte(l, sp.delim)
			if i < 0 {
				sp.fields = append(sp.fields, trimSpace(l))
				return sp.fields
			}
			sp.fields = append(sp.fields, trimSpace(l[:i]))
			l = l[i+1:]
		}
	}
	if cap(sp.scratch) < len(l) {
		sp.scratch = make([]byte, 0, 2*len(l))
	}
	sp.scratch = sp.scratch[:0]
	for {
		var f []byte
		f, l = sp.quotedField(l)
		sp.fields = append(sp.fields, f)
		if l == nil {
			return sp.fields
		}
	}
}

// quotedField reads one field that may be quoted; rest is nil after the
// last field. A quote inside an unquoted field is kept as text.
func (sp *splitter) quotedField(l []byte) (field, rest []byte) {
	t := trimLeft(l)
	if len(t) == 0 || t[0] != '"' {
		i := bytes.IndexByte(l, sp.delim)
		if i < 0 {
			return trimSpace(l), nil
		}
		return trimSpace(l[:i]), l[i+1:]
	}
	start := len(sp.scratch)
	t = t[1:]
	for {
		i := bytes.IndexByte(t, '"')
		if i < 0 { // unterminated (only at the end of a joined record)
			sp.scratch = append(sp.scratch, t...)
			return trimSpace(sp.scratch[start:]), nil
		}
		sp.scratch = append(sp.scratch, t[:i]...)
		t = t[i+1:]
		if len(t) > 0 && t[0] == '"' {
			sp.scratch = append(sp.scratch, '"')
			t = t[1:]
			continue
		}
		break
	}
	i := bytes.IndexByte(t, sp.delim)
	if i < 0 {
		sp.scratch = append(sp.scratch, trimSpace(t)...)
		return trimSpace(sp.scratch[start:]), nil
	}
	sp.scratch = append(sp.scratch, trimSpace(t[:i])...)
	return trimSpace(sp.scratch[start:]), t[i+1:]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func trimLeft(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func trimSpace(b []byte) []byte {
	b = trimLeft(b)
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
