package frame

import (
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// Real rows: MSFT.csv (Yahoo) and the Kaggle sp500_5yr files.
const (
	yHeader = "Date,Open,High,Low,Close,Adj Close,Volume\n"
	yRow1   = "2019-12-02,151.809998,151.830002,148.320007,149.550003,147.982330,27418400\n"
	yRow2   = "2019-12-03,147.490005,149.429993,146.649994,149.309998,147.744843,24066000\n"
	yRow3   = "2019-12-04,150.139999,150.179993,149.199997,149.850006,148.279175,17574700\n"
	yRow4   = "2019-12-05,150.050003,150.320007,149.479996,149.929993,148.358353,17869100\n"
	yRow13  = "2019-12-13,153.000000,154.889999,152.830002,154.529999,152.910126,23845400\n"
	yRow16  = "2019-12-16,155.110001,155.899994,154.820007,155.529999,153.899643,24144200\n"
	yRow17  = "2019-12-17,155.449997,155.710007,154.449997,154.690002,153.068451,25425600\n"
	kHeader = "date,open,high,low,close,volume,Name\n"
	kMSFT1  = "2013-02-08,27.35,27.71,27.31,27.55,33318306,MSFT\n"
	kMSFT2  = "2013-02-11,27.65,27.92,27.5,27.86,32247549,MSFT\n"
	kAAPL1  = "2013-02-08,67.7142,68.4014,66.8928,67.8542,158168416,AAPL\n"
	kAAPL2  = "2013-02-11,68.0714,69.2771,67.6071,68.5614,129029425,AAPL\n"
)

// in replaces old with new in a row (once, and it must be there).
func in(row, old, new string) string {
	if !strings.Contains(row, old) {
		panic(old + " not in " + row)
	}
	return strings.Replace(row, old, new, 1)
}

// euro writes a Yahoo row as a European spreadsheet saves it.
func euro(row string) string {
	p := strings.Split(strings.TrimSuffix(row, "\n"), ",")
	y, m, d := ymd(p[0])
	p[0] = d + "." + m + "." + y
	for i := 1; i < 6; i++ {
		p[i] = decimalComma(p[i])
	}
	p[6] = grouped(p[6], ".")
	return strings.Join(p, ";") + "\r\n"
}

func randomBytes(n int) string {
	r := rand.New(rand.NewSource(1))
	b := make([]byte, n)
	r.Read(b)
	return string(b)
}

func TestReadCSVMalformed(t *testing.T) {
	dmy := func(date string) string { return dmySlash(date) }
	tests := []struct {
		name string
		in   string
		opts CSVOptions
		want []string // substrings of the message: line, column, value, expectation, fix
	}{
		{"binary NUL", "\x00\x00\x00\x18ftypmp42", CSVOptions{},
			[]string{"line 1", "byte 0x00 at position 1", "binary file", "export the prices as CSV text"}},
		{"random bytes", randomBytes(4096), CSVOptions{},
			[]string{"line ", "byte 0x", "binary file", "export the prices as CSV text"}},
		{"xlsx (zip)", "PK\x03\x04\x14\x00\x06\x00", CSVOptions{},
			[]string{"line 1", "byte 0x03 at position 3", "binary", "CSV text"}},
		{"NUL inside a row", yHeader + yRow1 + in(yRow2, "147.49", "147\x0049"), CSVOptions{},
			[]string{"line 3", "byte 0x00 at position 15", "binary"}},
		{"UTF-16 BOM", "\xff\xfeD\x00a\x00t\x00e\x00", CSVOptions{},
			[]string{"line 1", "not UTF-16", "save the file as CSV UTF-8"}},
		{"empty file", "", CSVOptions{},
			[]string{"line 1", "the file is empty", "export the prices again"}},
		{"blank lines only", "\n  \r\n\n", CSVOptions{},
			[]string{"line 1", "the file is empty", "export the prices again"}},
		{"header only", yHeader, CSVOptions{},
			[]string{"line 2", "there are none", "export a date range"}},
		{"unknown header, semicolons and decimal commas",
			"Datum;Eröffnung;Hoch;Tief;Schluss;Volumen\r\n" + euro(yRow1) + euro(yRow2), CSVOptions{},
			[]string{"line 1", `column "date"`, `"Datum;Eröffnung`, "columns for date (named like Date, timestamp), open", `"Eröffnung"`,
				"semicolon-separated file with decimal commas", "--columns date=<name>,open=<name>"}},
		{"first line is data", yRow1 + yRow2, CSVOptions{},
			[]string{"line 1", `"2019-12-02,151.809998`, "looks like data", "add a header such as Date,Open"}},
		{"missing required column", "Date,Open,High,Low,Close,Adj Close\n" + in(yRow1, ",27418400", ""), CSVOptions{},
			[]string{"line 1", `column "volume"`, `"Date,Open,High,Low,Close,Adj Close"`, "a column for volume", "--columns volume=<name>"}},
		{"extra field in a row", yHeader + yRow1 + yRow2 + in(yRow3, "\n", ",0\n") + yRow4, CSVOptions{},
			[]string{"line 4", `column "field 8"`, `"2019-12-04,150.139999`, "7 fields like the header, not 8", "must be quoted"}},
		{"decimal commas in a comma file", yHeader + yRow1 + "2019-12-03,147,490005,149,429993,146,649994,149,309998,147,744843,24066000\n", CSVOptions{},
			[]string{"line 3", "field 8", "7 fields like the header, not 12", `must be quoted, such as a number with a decimal comma`}},
		{"too few fields", yHeader + yRow1 + "2019-12-03,147.490005,149.429993,146.649994\n", CSVOptions{},
			[]string{"line 3", `column "Close"`, `"2019-12-03,147.490005,149.429993,146.649…"`, "7 fields like the header, not 4", "quoted"}},
		{"bad number", yHeader + yRow1 + in(yRow2, "149.429993", "149.42x993"), CSVOptions{},
			[]string{"line 3", `column "High"`, `"149.42x993"`, "a price like 1234.56", "empty/null for missing are fine"}},
		{"percentage as a price", yHeader + yRow1 + in(yRow2, "149.309998", "-0.16%"), CSVOptions{},
			[]string{"line 3", `column "Close"`, `"-0.16%"`, "a percentage is not a price"}},
		{"bad thousands grouping", yHeader + yRow1 + in(yRow2, "24066000", `"2,40,66,000"`), CSVOptions{},
			[]string{"line 3", `column "Volume"`, `"2,40,66,000"`, "a volume like 1234567", "neither a thousands separator"}},
		{"bad decimal comma grouping (semicolons)", "Date;Open;High;Low;Close;Adj Close;Volume\r\n" + euro(yRow13) + in(euro(yRow16), "155,899994", "155,899,994"), CSVOptions{},
			[]string{"line 3", `column "High"`, `"155,899,994"`, "a price like 1234,56"}},
		{"bad date", yHeader + yRow1 + yRow2 + in(yRow3, "2019-12-04", "2019-13-04"), CSVOptions{},
			[]string{"line 4", `column "Date"`, `"2019-13-04"`, "a date as YYYY-MM-DD", "correct the date"}},
		{"unreadable first date", yHeader + in(yRow1, "2019-12-02", "Dec 2nd 2019"), CSVOptions{},
			[]string{"line 2", `column "Date"`, `"Dec 2nd 2019"`, "a date like 2020-12-31", "--date-format"}},
		{"two-digit years", yHeader + in(yRow1, "2019-12-02", "12/02/19"), CSVOptions{},
			[]string{"line 2", `column "Date"`, `"12/02/19"`, "--date-format MM/DD/YY"}},
		{"ambiguous day/month order", yHeader + in(yRow1, "2019-12-02", dmy("2019-12-02")) + in(yRow2, "2019-12-03", dmy("2019-12-03")), CSVOptions{},
			[]string{"line 2", `column "Date"`, `"02/12/2019"`, "MM/DD/YYYY and DD/MM/YYYY both fit", "--date-format MM/DD/YYYY or --date-format DD/MM/YYYY"}},
		{"mixed day/month orders", yHeader + in(yRow1, "2019-12-02", "12/02/2019") + in(yRow2, "2019-12-03", "12/13/2019") + in(yRow3, "2019-12-04", "14/12/2019"), CSVOptions{},
			[]string{"line 4", `column "Date"`, `"14/12/2019"`, `"12/13/2019" on line 3 is month-first`, "--date-format"}},
		{"date not in --date-format", yHeader + yRow1, CSVOptions{Format: CSVFormat{DateFormat: "DD/MM/YYYY"}},
			[]string{"line 2", `column "Date"`, `"2019-12-02"`, "a date as DD/MM/YYYY", "leave it out to detect"}},
		{"duplicate date", yHeader + yRow1 + yRow2 + yRow2 + yRow3, CSVOptions{},
			[]string{"line 4", `column "Date"`, `"2019-12-03"`, "line 3 has the same date", "remove the duplicate row"}},
		{"date out of order in the middle", yHeader + yRow1 + yRow2 + yRow4 + yRow3, CSVOptions{},
			[]string{"line 5", `column "Date"`, `"2019-12-04"`, "after 2019-12-05 on line 4", "oldest-first", "sort the file by date"}},
		{"date out of order in a newest-first file", yHeader + yRow4 + yRow3 + yRow1 + yRow2, CSVOptions{},
			[]string{"line 5", `column "Date"`, `"2019-12-03"`, "before 2019-12-02 on line 4", "newest-first", "sort the file by date"}},
		{"intraday duplicate timestamps", "Datetime,Open,High,Low,Close,Volume\n" +
			"2019-12-02 09:30:00,151.809998,151.830002,148.320007,149.550003,27418400\n" +
			"2019-12-02 09:31:00,147.490005,149.429993,146.649994,149.309998,24066000\n", CSVOptions{},
			[]string{"line 3", `column "Datetime"`, `"2019-12-02 09:31:00"`, "line 2 has the same date", "intraday data must be turned into daily bars"}},
		{"several tickers without --ticker", kHeader + kMSFT1 + kMSFT2 + kAAPL1 + kAAPL2, CSVOptions{},
			[]string{"line 4", `column "Name"`, `"AAPL"`, "MSFT, like the rows above", "several tickers", "--ticker"}},
		{"no rows of the ticker asked for", kHeader + kMSFT1 + kMSFT2 + kAAPL1 + kAAPL2, CSVOptions{Ticker: "GOOGL"},
			[]string{"line 5", `column "Name"`, "rows of GOOGL", "the file holds MSFT, AAPL", "choose one of those tickers"}},
		{"empty ticker", kHeader + kMSFT1 + in(kMSFT2, ",MSFT", ","), CSVOptions{},
			[]string{"line 3", `column "Name"`, "it is empty", "fill in the ticker"}},
		{"stooq period not daily", "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n" +
			"MSFT.US,W,20191202,000000,151.809998,151.830002,148.320007,149.550003,27418400,0\n", CSVOptions{},
			[]string{"line 2", `column "<PER>"`, `"W"`, "D: daily bars", "download daily data"}},
		{"unterminated quote", yHeader + yRow1 + `2019-12-03,"147.490005,149.429993,146.649994,149.309998,147.744843,24066000` + "\n" + yRow3, CSVOptions{},
			[]string{"line 3", "a closing quote", `a quote inside it is written ""`}},
		{"empty date", yHeader + yRow1 + in(yRow2, "2019-12-03", ""), CSVOptions{},
			[]string{"line 3", `column "Date"`, "every row needs one", "fill in the date"}},
		{"oversize field", yHeader + yRow1 + in(yRow2, "147.490005", strings.Repeat("7", 2000)), CSVOptions{},
			[]string{"line 3", `column "Open"`, `"7777777777`, "a field under 1024 bytes, not 2000", "nothing after this line was read"}},
		{"oversize field in an ignored column", "timestamp,open,high,low,close,volume,note\n" +
			"2019-12-02,151.809998,151.830002,148.320007,149.550003,27418400," + strings.Repeat("n", 3000) + "\n", CSVOptions{},
			[]string{"line 2", `column "note"`, "a field under 1024 bytes, not 3000"}},
		{"oversize line", yHeader + yRow1 + strings.Repeat("2019-12-03,", 40) + "\n" + yRow3, CSVOptions{MaxLineBytes: 256},
			[]string{"line 3", `"2019-12-03,2019-12-03,`, "a line under 256 bytes", "nothing after this line was read"}},
		{"--columns names a column the file lacks", yHeader + yRow1, CSVOptions{Format: CSVFormat{Columns: ColumnNames{Date: "Day"}}},
			[]string{"line 1", `column "Day"`, "a column named \"Day\" for date, as the column mapping says", `the header has "Date", "Open"`}},
		{"two columns for one role", "Date,Close,Open,High,Low,Close,Volume\n2019-12-02,149.550003,151.809998,151.830002,148.320007,149.550003,27418400\n", CSVOptions{},
			[]string{"line 1", `column "Close"`, `one column for close, not two ("Close" and "Close")`, "--columns close=<name>"}},
		// Line numbers count BOM, CRLF, lone CR and blank lines as a text editor does.
		{"bad number in a BOM+CRLF semicolon file", "\ufeffDate;Open;High;Low;Close;Adj Close;Volume\r\n" + euro(yRow13) + euro(yRow16) + in(euro(yRow17), "154,690002", "154,69O002"), CSVOptions{},
			[]string{"line 4", `column "Close"`, `"154,69O002"`, "a price like 1234,56"}},
		{"bad date in a lone-CR file", strings.ReplaceAll(yHeader+yRow1+yRow2+in(yRow3, "2019-12-04", "2019-12-4x"), "\n", "\r"), CSVOptions{},
			[]string{"line 4", `column "Date"`, `"2019-12-4x"`, "a date as YYYY-MM-DD"}},
		{"bad number after blank lines", yHeader + yRow1 + "\n\n" + in(yRow2, "149.309998", "n.a."), CSVOptions{},
			[]string{"line 5", `column "Close"`, `"n.a."`, "a price like 1234.56"}},
		{"line break inside a quoted field", yHeader + yRow1 + in(yRow2, "147.490005", "\"147.49\n0005\"") + yRow3 + in(yRow4, "150.050003", "x"), CSVOptions{},
			[]string{"line 3", `column "Open"`, `"147.49\n0005"`, "a price like 1234.56"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadCSV(strings.NewReader(tc.in), tc.opts)
			if err == nil {
				t.Fatal("read without error")
			}
			var ce *CSVError
			if !errors.As(err, &ce) {
				t.Fatalf("%T %v, want a *CSVError", err, err)
			}
			if ce.Line < 1 || ce.Expected == "" {
				t.Errorf("CSVError %+v: no line or expectation", ce)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// TestReadCSVMalformedSpecs: --columns and --date-format mistakes are
// refused before any file is read.
func TestReadCSVMalformedSpecs(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"date", `column mapping "date": want role=header name`},
		{"date=Day,opening=Open", `unknown role "opening" (roles: date, open, high, low, close, adj_close, volume, ticker)`},
		{"date=Day,close=", `column mapping "close=": want role=header name`},
		{"date=Day,date=Datum", "date given twice"},
		{"=Day", `unknown role ""`},
	} {
		if _, err := ParseColumns(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseColumns(%q) = %v, want %q", tc.spec, err, tc.want)
		}
	}
	for _, tc := range []struct {
		f    CSVFormat
		want string
	}{
		{CSVFormat{DateFormat: "QQ/ZZ"}, `date format "QQ/ZZ": unknown token`},
		{CSVFormat{DateFormat: "MM/YYYY"}, "needs a year, a month and a day"},
		{CSVFormat{Columns: ColumnNames{Date: " Day"}}, `column name " Day" for date: no leading or trailing spaces`},
	} {
		err := tc.f.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v.Validate() = %v, want %q", tc.f, err, tc.want)
		}
		if _, _, rerr := ReadCSV(strings.NewReader(yHeader+yRow1), CSVOptions{Format: tc.f}); rerr == nil || rerr.Error() != err.Error() {
			t.Errorf("ReadCSV with %+v = %v, want the Validate error", tc.f, rerr)
		}
	}
}

// countingReader counts the bytes a reader took.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endless repeats a byte forever.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// TestReadCSVOversizeStopsReading: an oversize line, or a quoted field
// that never closes, is refused having read about the line limit of an
// endless input, not the rest of it.
func TestReadCSVOversizeStopsReading(t *testing.T) {
	for _, tc := range []struct {
		name  string
		head  string
		tail  io.Reader
		limit int
		want  []string
	}{
		{"oversize line, small limit", yHeader + yRow1, endless('x'), 4096,
			[]string{"line 3", "a line under 4096 bytes"}},
		{"oversize line, default limit", yHeader + yRow1, endless('7'), 0,
			[]string{"line 3", "a line under 65536 bytes"}},
		{"no line break at all", "", endless(','), 0,
			[]string{"line 1", "a line under 65536 bytes"}},
		{"quote never closed", yHeader + yRow1 + `2019-12-03,"147.490005` + "\n", strings.NewReader(strings.Repeat(yRow3, 1<<16)), 4096,
			[]string{"line 3", "a closing quote for the quoted field that starts here, within 4096 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingReader{r: io.MultiReader(strings.NewReader(tc.head), tc.tail)}
			_, _, err := ReadCSV(cr, CSVOptions{MaxLineBytes: tc.limit})
			var ce *CSVError
			if !errors.As(err, &ce) {
				t.Fatalf("%T %v, want a *CSVError", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			limit := tc.limit
			if limit == 0 {
				limit = DefaultMaxLineBytes
			}
			if most := int64(len(tc.head) + 2*limit); cr.n > most {
				t.Errorf("read %d bytes before refusing, want at most %d", cr.n, most)
			}
			t.Logf("read %d bytes (limit %d): %v", cr.n, limit, err)
		})
	}
}
