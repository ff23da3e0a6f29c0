package frame

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// expectedRows preallocates for about 40 years of trading days, so typical
// files parse without growing the slices.
const expectedRows = 10240

// sniffLines is how many lines are read ahead to detect the delimiter,
// header, decimal separator and date format.
const sniffLines = 256

// maxPreamble is how many title lines above the header are passed over.
const maxPreamble = 5

// sampleValue is a field's text and its line, kept while sniffing.
type sampleValue struct {
	text   []byte
	line   int
	column int // the field's index, where it matters
}

// csvReader reads one file; see ReadCSV.
type csvReader struct {
	src     *lineSource
	opts    CSVOptions
	sp      splitter
	latin   []byte
	layout  csvLayout
	nfields int
	needs   int // fields a row needs: one past the last role's column
	dates   dateFormat
	nums    numberStyle
	report  CSVReport
	pending []sampleValue // lines read while sniffing, not yet parsed
	bars    *Bars
	dir     int // +1 oldest-first, -1 newest-first, 0 not known yet
	prevAt  int // line of the last kept row
	others  []string
}

func newCSVReader(r io.Reader, opts CSVOptions) (*csvReader, error) {
	if err := opts.Format.Validate(); err != nil {
		return nil, err
	}
	src, err := newLineSource(r, opts.MaxLineBytes)
	if err != nil {
		return nil, err
	}
	rd := &csvReader{src: src, opts: opts, bars: NewBars(opts.Ticker, expectedRows)}
	lines, err := rd.readAhead()
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, &CSVError{Line: 1, Expected: "a header line and rows of daily prices: the file is empty",
			Hint: "export the prices again, as CSV text with a header such as Date,Open,High,Low,Close,Volume"}
	}
	if err := rd.findHeader(lines); err != nil {
		return nil, err
	}
	if err := rd.sniffValues(); err != nil {
		return nil, err
	}
	return rd, nil
}

// readAhead copies the first non-blank lines into a few large blocks.
func (rd *csvReader) readAhead() ([]sampleValue, error) {
	out := make([]sampleValue, 0, sniffLines)
	var block []byte
	for len(out) < sniffLines {
		l, n, err := rd.nextLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if cap(block)-len(block) < len(l) {
			block = make([]byte, 0, max(32<<10, len(l)))
		}
		at := len(block)
		block = append(block, l...)
		out = append(out, sampleValue{text: block[at:len(block):len(block)], line: n})
	}
	return out, nil
}

// nextLine returns the next line that is not blank, checked to be text.
func (rd *csvReader) nextLine() ([]byte, int, error) {
	for {
		l, n, err := rd.src.next()
		if err != nil {
			return nil, n, err
		}
		if l, err = checkText(l, n, rd.latin); err != nil {
			return nil, n, err
		}
		if len(trimSpace(l)) > 0 {
			return l, n, nil
		}
	}
}

// findHeader picks the delimiter and the header line (passing over a title
// above it), and maps the columns.
func (rd *csvReader) findHeader(lines []sampleValue) error {
	var firstErr error
	for h := 0; h < len(lines) && h <= maxPreamble; h++ {
		delim := detectDelimiter(lines[h].text, lines[h+1:])
		rd.sp.delim = delim
		fields := rd.sp.split(lines[h].text)
		if err := fieldSizes(fields, nil, lines[h].line); err != nil {
			return err
		}
		layout, err := readHeader(fields, rd.opts.Format.Columns, lines[h].line)
		if err == nil && layout.missing() != "" {
			err = rd.missingColumn(layout, fields, lines[h], lines[h+1:])
		}
		if err == nil {
			rd.layout, rd.nfields = layout, len(fields)
			for _, c := range layout.col {
				rd.needs = max(rd.needs, c+1)
			}
			rd.pending = lines[h+1:]
			rd.report.SkippedPreamble, rd.report.Delimiter, rd.report.Source = h, string(delim), layout.source()
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if layout.col[roleDate] >= 0 || len(rd.opts.Format.Columns.byRole()) > 0 {
			break // a header that names some columns is the header
		}
	}
	return firstErr
}

// missingColumn explains a header without a required column.
func (rd *csvReader) missingColumn(l csvLayout, fields [][]byte, header sampleValue, rows []sampleValue) error {
	role := l.missing()
	if len(fields) > 0 {
		if _, err := sniffDates([]sampleValue{{text: fields[0], line: header.line}}, ""); err == nil {
			return &CSVError{Line: header.line, Value: shown(header.text),
				Expected: "a header line naming the columns: this line looks like data",
				Hint:     "add a header such as Date,Open,High,Low,Close,Volume as the first line"}
		}
	}
	var wants, maps []string
	for _, r := range requiredRoles {
		if l.col[r] < 0 {
			wants = append(wants, fmt.Sprintf("%s (named like %s)", roleNames[r], knownNames[r]))
			maps = append(maps, roleNames[r]+"=<name>")
		}
	}
	want := "a column for " + wants[0]
	if len(wants) > 1 {
		want = "columns for " + strings.Join(wants, ", ")
	}
	return &CSVError{Line: header.line, Column: role, Value: shown(header.text),
		Expected: fmt.Sprintf("%s; the header has %s", want, quoteList(l.names)),
		Hint:     shapeHint(rd.sp.delim, rows) + "name them with --columns " + strings.Join(maps, ",") + " (a /predict upload: the columns field)"}
}

func mustRole(name string) int {
	for i, n := range roleNames {
		if n == name {
			return i
		}
	}
	return roleDate
}

// shapeHint describes the file as read so far, for messages about its header.
func shapeHint(delim byte, rows []sampleValue) string {
	name := map[byte]string{',': "comma", ';': "semicolon", '\t': "tab", '|': "pipe"}[delim]
	s := "it looks like a " + name + "-separated file"
	if delim != ',' {
		var vals []sampleValue
		for _, r := range rows {
			for _, f := range bytes.Split(r.text, []byte{delim}) {
				vals = append(vals, sampleValue{text: f})
			}
		}
		if d, ok := sniffDecimal(vals); ok && d == ',' {
			s += " with decimal commas"
		}
	}
	return s + "; "
}

// detectDelimiter picks, among , ; tab and |, the one that cuts the header
// into the most fields with the rows below cut into as many.
func detectDelimiter(header []byte, rows []sampleValue) byte {
	best, bestFields, bestAgree := byte(','), 0, -1
	for _, d := range []byte{',', ';', '\t', '|'} {
		sp := splitter{delim: d}
		n := len(sp.split(header))
		if n < 2 {
			continue
		}
		agree := 0
		for _, r := range rows[:min(len(rows), 20)] {
			if len(sp.split(r.text)) == n {
				agree++
			}
		}
		if agree > bestAgree || agree == bestAgree && n > bestFields {
			best, bestFields, bestAgree = d, n, agree
		}
	}
	return best
}

// sniffValues settles the decimal separator and the date format from the
// lines read ahead.
func (rd *csvReader) sniffValues() error {
	var numbers []sampleValue
	dates := make([]sampleValue, 0, len(rd.pending))
	dc := rd.layout.col[roleDate]
	for _, s := range rd.pending {
		fields := rd.sp.split(s.text)
		if len(fields) < rd.needs {
			continue // refused with its line when parsed
		}
		quoted := bytes.IndexByte(s.text, '"') >= 0 // fields then lie in the splitter's scratch
		keep := func(b []byte) []byte {
			if quoted {
				return bytes.Clone(b)
			}
			return b
		}
		if d := fields[dc]; len(d) > 0 {
			dates = append(dates, sampleValue{text: keep(d), line: s.line})
		}
		if rd.sp.delim != ',' {
			for _, role := range []int{roleOpen, roleHigh, roleLow, roleClose, roleVolume} {
				c := rd.layout.col[role]
				numbers = append(numbers, sampleValue{text: keep(fields[c]), line: s.line, column: c})
			}
		}
	}
	if err := rd.settleDecimal(numbers); err != nil {
		return err
	}
	rd.report.DecimalComma = rd.nums.decimal == ','
	if rd.opts.Format.DateFormat != "" {
		f, err := compileDateFormat(rd.opts.Format.DateFormat)
		rd.dates = f
		rd.report.DateFormat = f.name
		return err
	}
	if len(dates) == 0 {
		return nil // no rows: readAll says so
	}
	f, err := sniffDates(dates, rd.layout.names[dc])
	rd.dates = f
	rd.report.DateFormat = f.name
	return err
}

// settleDecimal chooses the decimal separator: the one the format names;
// '.' in a comma-separated file; else the one the sampled numbers settle.
// Numbers that could be read either way (27.350: 27.35 or 27350) are
// refused, never guessed.
func (rd *csvReader) settleDecimal(numbers []sampleValue) error {
	rd.nums.decimal = '.'
	switch {
	case rd.opts.Format.Decimal != "":
		rd.nums.decimal = rd.opts.Format.Decimal[0]
		return nil
	case rd.sp.delim == ',':
		return nil
	}
	if d, ok := sniffDecimal(numbers); ok {
		rd.nums.decimal = d
		return nil
	}
	for _, n := range numbers {
		if bytes.ContainsAny(n.text, ".,") {
			return &CSVError{Line: n.line, Column: rd.layout.names[n.column], Value: shown(n.text),
				Expected: fmt.Sprintf("numbers that settle the decimal separator: in the first %d rows none has a separator that cannot group thousands, so this reads either way", len(rd.pending)),
				Hint:     "name it with --decimal , or --decimal . (a /predict upload: the decimal field; an inbox file: \"decimal\" in its sidecar)"}
		}
	}
	return nil // no separators at all
}

// readAll parses the lines read ahead and then the rest of the file.
func (rd *csvReader) readAll() (*Bars, CSVReport, error) {
	for _, s := range rd.pending {
		if err := rd.row(s.text, s.line); err != nil {
			return nil, rd.report, err
		}
	}
	rd.pending = nil
	for {
		l, n, err := rd.nextLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, rd.report, err
		}
		if err := rd.row(l, n); err != nil {
			return nil, rd.report, err
		}
	}
	if err := rd.finish(); err != nil {
		return nil, rd.report, err
	}
	return rd.bars, rd.report, nil
}

// finish refuses a file without rows and turns newest-first bars around.
func (rd *csvReader) finish() error {
	b := rd.bars
	if b.Len() == 0 {
		if len(rd.others) > 0 {
			return &CSVError{Line: rd.src.line, Column: rd.layout.names[rd.layout.col[roleTicker]],
				Expected: fmt.Sprintf("rows of %s: the file holds %s", rd.opts.Ticker, strings.Join(rd.others, ", ")),
				Hint:     "choose one of those tickers, or upload the file of " + rd.opts.Ticker}
		}
		return &CSVError{Line: rd.src.line + 1, Expected: "rows of daily prices below the header: there are none",
			Hint: "export a date range that has prices"}
	}
	if rd.dir < 0 {
		b.reverse()
		rd.report.NewestFirst = true
	}
	rd.report.Rows = b.Len()
	return nil
}

// row parses one line into a bar.
func (rd *csvReader) row(line []byte, n int) error {
	fields := rd.sp.split(line)
	if err := fieldSizes(fields, rd.layout.names, n); err != nil {
		return err
	}
	if len(fields) != rd.nfields && (len(fields) > rd.nfields || len(fields) < rd.needs) {
		return rd.fieldCount(line, n, len(fields))
	}
	l := &rd.layout
	if c := l.col[roleTicker]; c >= 0 {
		keep, err := rd.keepTicker(fields[c], n)
		if !keep || err != nil {
			return err
		}
	}
	if c := l.col[rolePeriod]; c >= 0 && !isDaily(fields[c]) {
		return &CSVError{Line: n, Column: l.names[c], Value: shown(fields[c]), Expected: "D: daily bars (FinSight trains on daily prices)",
			Hint: "download daily data (Stooq: interval d)"}
	}
	date, err := rd.date(fields, n)
	if err != nil {
		return err
	}
	var v [6]float64
	for i, role := range [6]int{roleOpen, roleHigh, roleLow, roleClose, roleVolume, roleAdjClose} {
		c := l.col[role]
		if c < 0 {
			v[i] = v[3] // no adjusted close: the close
			continue
		}
		var problem string
		if v[i], problem = rd.nums.parse(fields[c], role == roleVolume); problem != "" {
			return &CSVError{Line: n, Column: l.names[c], Value: shown(fields[c]), Expected: problem}
		}
	}
	b := rd.bars
	b.Date = append(b.Date, date)
	b.Open = append(b.Open, v[0])
	b.High = append(b.High, v[1])
	b.Low = append(b.Low, v[2])
	b.Close = append(b.Close, v[3])
	b.Volume = append(b.Volume, v[4])
	b.AdjClose = append(b.AdjClose, v[5])
	rd.prevAt = n
	return nil
}

// date reads the row's date and checks it continues the file's order.
func (rd *csvReader) date(fields [][]byte, n int) (time.Time, error) {
	c := rd.layout.col[roleDate]
	f := fields[c]
	d, ok := rd.dates.parse(f)
	if !ok {
		want, hint := "a date as "+rd.dates.name+", like the rows above", "correct the date or remove the row"
		if len(f) == 0 {
			want, hint = "a date: every row needs one", "fill in the date or remove the row"
		} else if rd.opts.Format.DateFormat != "" {
			hint = "the dates do not match --date-format " + rd.opts.Format.DateFormat + ": correct it, or leave it out to detect the format"
		}
		return d, &CSVError{Line: n, Column: rd.layout.names[c], Value: shown(f), Expected: want, Hint: hint}
	}
	b := rd.bars
	if b.Len() == 0 {
		return d, nil
	}
	prev := b.Date[b.Len()-1]
	after := d.After(prev)
	switch {
	case d.Equal(prev):
		return d, &CSVError{Line: n, Column: rd.layout.names[c], Value: shown(f),
			Expected: fmt.Sprintf("one row per day: line %d has the same date", rd.prevAt),
			Hint:     "remove the duplicate row; intraday data must be turned into daily bars first"}
	case rd.dir == 0 && after:
		rd.dir = 1
	case rd.dir == 0:
		rd.dir = -1
	case (rd.dir > 0) != after:
		runs, want := "oldest-first", "after"
		if rd.dir < 0 {
			runs, want = "newest-first", "before"
		}
		return d, &CSVError{Line: n, Column: rd.layout.names[c], Value: shown(f),
			Expected: fmt.Sprintf("a date %s %s on line %d: the file runs %s", want, prev.Format(DateLayout), rd.prevAt, runs),
			Hint:     "sort the file by date"}
	}
	return d, nil
}

// keepTicker takes the file's ticker from its first row when none was
// asked for (then another ticker is refused), and otherwise passes over
// rows of other tickers.
func (rd *csvReader) keepTicker(f []byte, n int) (bool, error) {
	col := rd.layout.names[rd.layout.col[roleTicker]]
	b := rd.bars
	switch {
	case len(f) == 0:
		return false, &CSVError{Line: n, Column: col, Expected: "the row's ticker: it is empty", Hint: "fill in the ticker or remove the row"}
	case b.Ticker == "":
		b.Ticker = string(f)
		return true, nil
	case sameTicker(f, b.Ticker):
		return true, nil
	case rd.opts.Ticker == "":
		return false, &CSVError{Line: n, Column: col, Value: shown(f),
			Expected: fmt.Sprintf("%s, like the rows above: the file holds several tickers", b.Ticker),
			Hint:     "choose one with --ticker (a /predict upload: the ticker field)"}
	}
	rd.report.OtherTickerRows++
	if len(rd.others) < 5 && !containsFold(rd.others, f) {
		rd.others = append(rd.others, string(f))
	}
	return false, nil
}

// SameTicker reports whether a file's ticker is the one asked for: equal
// ignoring case and an exchange suffix of two or more letters on the
// file's (Stooq's MSFT.US); a one-letter share class (BRK.B) is part of
// the ticker.
func SameTicker(file, asked string) bool { return sameTicker([]byte(file), asked) }

// sameTicker is SameTicker on a field's bytes, as the reader has them
// (no copy per row).
func sameTicker(f []byte, t string) bool {
	if bytes.EqualFold(f, []byte(t)) {
		return true
	}
	if i := bytes.LastIndexByte(f, '.'); i > 0 && len(f)-i > 2 && !strings.Contains(t, ".") {
		return bytes.EqualFold(f[:i], []byte(t))
	}
	return false
}

func containsFold(list []string, f []byte) bool {
	for _, s := range list {
		if bytes.EqualFold([]byte(s), f) {
			return true
		}
	}
	return false
}

func isDaily(f []byte) bool {
	return bytes.EqualFold(f, []byte("d")) || bytes.EqualFold(f, []byte("1d")) || bytes.EqualFold(f, []byte("daily"))
}

// fieldSizes refuses a field over maxFieldBytes; names are the header's
// (nil for the header itself).
func fieldSizes(fields [][]byte, names []string, n int) error {
	for i, f := range fields {
		if len(f) <= maxFieldBytes {
			continue
		}
		col := fmt.Sprintf("field %d", i+1)
		if i < len(names) {
			col = names[i]
		}
		return &CSVError{Line: n, Column: col, Value: shown(f),
			Expected: fmt.Sprintf("a field under %d bytes, not %d", maxFieldBytes, len(f)),
			Hint:     "this is not a daily price file, or a quote or delimiter is missing; nothing after this line was read"}
	}
	return nil
}

// fieldCount explains a row with another number of fields than the header.
func (rd *csvReader) fieldCount(line []byte, n, got int) error {
	col := fmt.Sprintf("field %d", rd.nfields+1)
	if got < rd.nfields {
		col = rd.layout.names[got]
	}
	hint := "a field holding the delimiter must be quoted"
	if rd.sp.delim == ',' && got > rd.nfields {
		hint += ", such as a number with a decimal comma or thousands separator (\"1,5\", \"1,234.50\")"
	}
	return &CSVError{Line: n, Column: col, Value: shown(line),
		Expected: fmt.Sprintf("%d fields like the header, not %d", rd.nfields, got), Hint: hint}
}
