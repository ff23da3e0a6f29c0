package api

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
)

// errFormCut is a multipart body that ended before its closing boundary.
var errFormCut = errors.New("malformed multipart body: it ends before its closing boundary (cut off in transit?); send the whole form again")

// formReader is a multipart reader that knows whether the body ended with
// the closing boundary. Go's reader takes a body cut off between two parts
// for a complete form, which would silently drop the fields after the cut.
type formReader struct {
	*multipart.Reader
	end *closingScan
}

func newFormReader(body io.Reader, boundary string) *formReader {
	end := &closingScan{r: body, marker: []byte("--" + boundary + "--")}
	return &formReader{Reader: multipart.NewReader(end, boundary), end: end}
}

// complete reports whether the closing boundary went by.
func (f *formReader) complete() bool { return f.end.seen }

// closingScan passes a body through, watching for marker across reads.
type closingScan struct {
	r      io.Reader
	marker []byte
	carry  []byte // the last len(marker)-1 bytes seen
	seen   bool
}

func (s *closingScan) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && !s.seen {
		buf := append(s.carry, p[:n]...)
		s.seen = bytes.Contains(buf, s.marker)
		keep := min(len(buf), len(s.marker)-1)
		s.carry = append(s.carry[:0:0], buf[len(buf)-keep:]...)
	}
	return n, err
}
