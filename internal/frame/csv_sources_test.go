package frame

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/sharedtest"
)

// srcRow is one row of the Yahoo original, as text.
type srcRow struct{ date, open, high, low, close, adj, vol string }

// sourceRows is how many real MSFT rows the source shapes are written from.
const sourceRows = 80

// msftRows returns sourceRows real rows of MSFT.csv from 2019-12-02 on
// (prices in the hundreds, volumes in the tens of millions, the 2020
// crash) and the close of the row before them, for Investing's Change %.
func msftRows(t *testing.T) (rows []srcRow, prevClose string) {
	t.Helper()
	return yahooRows(t, "MSFT.csv", sourceRows)
}

// yahooRows returns n rows of a Yahoo file of single/ from 2019-12-02 on,
// and the close before them.
func yahooRows(t *testing.T, name string, n int) (rows []srcRow, prevClose string) {
	t.Helper()
	f, err := os.Open(sharedtest.Path(t, "single", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var prev srcRow
	for sc.Scan() && len(rows) < n {
		p := strings.Split(sc.Text(), ",")
		if len(p) != 7 || p[0] == "Date" {
			continue
		}
		r := srcRow{p[0], p[1], p[2], p[3], p[4], p[5], p[6]}
		if r.date < "2019-12-02" {
			prev = r
			continue
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != n || prev.close == "" {
		t.Fatalf("%s: %d rows from 2019-12-02, want %d", name, len(rows), n)
	}
	return rows, prev.close
}

// ymd cuts an ISO date into its text parts.
func ymd(date string) (y, m, d string) { return date[0:4], date[5:7], date[8:10] }

func mdySlash(date string) string { y, m, d := ymd(date); return m + "/" + d + "/" + y }
func dmySlash(date string) string { y, m, d := ymd(date); return d + "/" + m + "/" + y }
func dmyDot(date string) string   { y, m, d := ymd(date); return d + "." + m + "." + y }
func compact(date string) string  { y, m, d := ymd(date); return y + m + d }

// grouped writes the digits of an integer text in groups of three.
func grouped(digits string, sep string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// groupedPrice writes a price text with its integer digits grouped by th
// and dec as the decimal separator: 1302.560059 as 1,302.560059 or
// 1.302,560059.
func groupedPrice(s, th, dec string) string {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok {
		return grouped(whole, th)
	}
	return grouped(whole, th) + dec + frac
}

// decimalComma swaps the decimal point of a price text for a comma.
func decimalComma(s string) string { return strings.Replace(s, ".", ",", 1) }

func newestFirst(rows []srcRow) []srcRow {
	out := make([]srcRow, len(rows))
	for i, r := range rows {
		out[len(rows)-1-i] = r
	}
	return out
}

// file writes a header and one line per row, with the line ending eol.
func file(header string, rows []srcRow, eol string, line func(r srcRow) string) []byte {
	var b bytes.Buffer
	b.WriteString(header + eol)
	for _, r := range rows {
		b.WriteString(line(r) + eol)
	}
	return b.Bytes()
}

func yahooFile(rows []srcRow) []byte {
	return file("Date,Open,High,Low,Close,Adj Close,Volume", rows, "\n", func(r srcRow) string {
		return strings.Join([]string{r.date, r.open, r.high, r.low, r.close, r.adj, r.vol}, ",")
	})
}

func kaggleLine(r srcRow, name string) string {
	return strings.Join([]string{r.date, r.open, r.high, r.low, r.close, r.vol, name}, ",")
}

// investingFile writes Investing.com's quoted export, newest-first: Vol.
// rounded to millions (as Investing does), Change % from the closes, and
// prices grouped by thousands when thousands is set (1,302.560059).
func investingFile(rows []srcRow, prevClose string, thousands bool) []byte {
	change := map[string]string{}
	prev := prevClose
	for _, r := range rows {
		a, _ := strconv.ParseFloat(prev, 64)
		b, _ := strconv.ParseFloat(r.close, 64)
		change[r.date] = fmt.Sprintf("%.2f%%", (b/a-1)*100)
		prev = r.close
	}
	q := func(s ...string) string { return `"` + strings.Join(s, `","`) + `"` }
	return file(q("Date", "Price", "Open", "High", "Low", "Vol.", "Change %"), newestFirst(rows), "\n", func(r srcRow) string {
		v, _ := strconv.ParseFloat(r.vol, 64)
		p := func(s string) string {
			if thousands {
				return groupedPrice(s, ",", ".")
			}
			return s
		}
		return q(mdySlash(r.date), p(r.close), p(r.open), p(r.high), p(r.low), fmt.Sprintf("%.2fM", v/1e6), change[r.date])
	})
}

// latin1 encodes UTF-8 text as Latin-1 (a Windows export).
func latin1(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r))
	}
	return b
}

func dayMonthAmbiguous(rows []srcRow) []srcRow {
	var out []srcRow
	for _, r := range rows {
		if _, _, d := ymd(r.date); d <= "12" {
			out = append(out, r)
		}
	}
	return out
}

// sourceCase is one export shape of the same rows.
type sourceCase struct {
	name   string
	data   []byte
	opts   CSVOptions
	report CSVReport // Source, Delimiter, DecimalComma, DateFormat, NewestFirst, OtherTickerRows, SkippedPreamble
	rows   []srcRow  // the rows it holds; nil: all
	adj    bool      // the source has an adjusted close
	// volumeTol: volumes are rounded by the source (Investing's 15.18M);
	// they must agree within this much.
	volumeTol float64
}

func TestReadCSVSources(t *testing.T) {
	rows, prevClose := msftRows(t)
	newest := newestFirst(rows)
	ambiguous := dayMonthAmbiguous(rows)
	if len(ambiguous) < 20 || len(ambiguous) == len(rows) {
		t.Fatalf("%d rows with a day up to 12", len(ambiguous))
	}
	googl, googlPrev := yahooRows(t, "GOOGL.csv", 40) // prices above 1000
	aapl := aaplKaggleLines(t, 40)
	multi := []byte("date,open,high,low,close,volume,Name\n" + strings.Join(aapl, "\n") + "\n")
	for _, r := range rows {
		multi = append(multi, kaggleLine(r, "MSFT")+"\n"...)
	}
	columns, err := ParseColumns("date=Day, open=Opening, high=Highest, low=Lowest, close=Closing, adj_close=Adjusted, volume=Shares")
	if err != nil {
		t.Fatal(err)
	}
	german, err := ParseColumns("date=Datum,open=Eröffnung,high=Hoch,low=Tief,close=Schluss,volume=Volumen")
	if err != nil {
		t.Fatal(err)
	}
	const iso, us = "YYYY-MM-DD", "MM/DD/YYYY"
	cases := []sourceCase{
		{name: "yahoo", data: yahooFile(rows), adj: true,
			report: CSVReport{Source: "yahoo", Delimiter: ",", DateFormat: iso}},
		{name: "kaggle", opts: CSVOptions{Ticker: "MSFT"},
			data:   file("date,open,high,low,close,volume,Name", rows, "\n", func(r srcRow) string { return kaggleLine(r, "MSFT") }),
			report: CSVReport{Source: "kaggle", Delimiter: ",", DateFormat: iso}},
		{name: "kaggle ticker from the file",
			data:   file("date,open,high,low,close,volume,Name", rows, "\n", func(r srcRow) string { return kaggleLine(r, "MSFT") }),
			report: CSVReport{Source: "kaggle", Delimiter: ",", DateFormat: iso}},
		{name: "nasdaq",
			data: file("Date,Close/Last,Volume,Open,High,Low", newest, "\n", func(r srcRow) string {
				return strings.Join([]string{mdySlash(r.date), "$" + r.close, r.vol, "$" + r.open, "$" + r.high, "$" + r.low}, ",")
			}),
			report: CSVReport{Source: "nasdaq", Delimiter: ",", DateFormat: us, NewestFirst: true}},
		{name: "nasdaq, older export with spaces after the commas",
			data: file("Date, Close/Last, Volume, Open, High, Low", newest, "\n", func(r srcRow) string {
				return strings.Join([]string{mdySlash(r.date), "$" + r.close, r.vol, "$" + r.open, "$" + r.high, "$" + r.low}, ", ")
			}),
			report: CSVReport{Source: "nasdaq", Delimiter: ",", DateFormat: us, NewestFirst: true}},
		{name: "stooq web",
			data: file("Date,Open,High,Low,Close,Volume", rows, "\n", func(r srcRow) string {
				return strings.Join([]string{r.date, r.open, r.high, r.low, r.close, r.vol}, ",")
			}),
			// Stooq's web download has no mark of its own.
			report: CSVReport{Source: "generic", Delimiter: ",", DateFormat: iso}},
		{name: "stooq bulk", opts: CSVOptions{Ticker: "MSFT"},
			data: file("<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>", rows, "\r\n", func(r srcRow) string {
				return strings.Join([]string{"MSFT.US", "D", compact(r.date), "000000", r.open, r.high, r.low, r.close, r.vol, "0"}, ",")
			}),
			report: CSVReport{Source: "stooq", Delimiter: ",", DateFormat: "YYYYMMDD"}},
		{name: "alpha vantage",
			data: file("timestamp,open,high,low,close,volume", newest, "\r\n", func(r srcRow) string {
				return strings.Join([]string{r.date, r.open, r.high, r.low, r.close, r.vol}, ",")
			}),
			report: CSVReport{Source: "alphavantage", Delimiter: ",", DateFormat: iso, NewestFirst: true}},
		{name: "alpha vantage adjusted", adj: true,
			data: file("timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient", newest, "\r\n", func(r srcRow) string {
				return strings.Join([]string{r.date, r.open, r.high, r.low, r.close, r.adj, r.vol, "0.0000", "1.0"}, ",")
			}),
			report: CSVReport{Source: "alphavantage", Delimiter: ",", DateFormat: iso, NewestFirst: true}},
		{name: "investing", data: investingFile(rows, prevClose, false), volumeTol: 0.005e6,
			report: CSVReport{Source: "investing", Delimiter: ",", DateFormat: us, NewestFirst: true}},
		{name: "european semicolon, decimal commas, BOM, CRLF", adj: true,
			data: append([]byte("\ufeff"), file("Date;Open;High;Low;Close;Adj Close;Volume", rows, "\r\n", func(r srcRow) string {
				return strings.Join([]string{dmyDot(r.date), decimalComma(r.open), decimalComma(r.high), decimalComma(r.low),
					decimalComma(r.close), decimalComma(r.adj), grouped(r.vol, ".")}, ";")
			})...),
			report: CSVReport{Source: "yahoo", Delimiter: ";", DecimalComma: true, DateFormat: "DD.MM.YYYY"}},
		{name: "tab-separated", adj: true,
			data: file("Date\tOpen\tHigh\tLow\tClose\tAdj Close\tVolume", rows, "\n", func(r srcRow) string {
				return strings.Join([]string{r.date, r.open, r.high, r.low, r.close, r.adj, r.vol}, "\t")
			}),
			report: CSVReport{Source: "yahoo", Delimiter: "\t", DateFormat: iso}},
		{name: "quoted thousands separators", adj: true,
			data: file("Date,Open,High,Low,Close,Adj Close,Volume", rows, "\n", func(r srcRow) string {
				return strings.Join([]string{r.date, r.open, r.high, r.low, r.close, r.adj, `"` + grouped(r.vol, ",") + `"`}, ",")
			}),
			report: CSVReport{Source: "yahoo", Delimiter: ",", DateFormat: iso}},
		{name: "quoted thousands separators in prices (GOOGL)", adj: true, rows: googl,
			data: file("Date,Open,High,Low,Close,Adj Close,Volume", googl, "\n", func(r srcRow) string {
				q := func(s string) string { return `"` + groupedPrice(s, ",", ".") + `"` }
				return strings.Join([]string{r.date, q(r.open), q(r.high), q(r.low), q(r.close), q(r.adj), q(r.vol)}, ",")
			}),
			report: CSVReport{Source: "yahoo", Delimiter: ",", DateFormat: iso}},
		{name: "investing, prices above 1000 (GOOGL)", rows: googl, volumeTol: 0.005e6,
			data:   investingFile(googl, googlPrev, true),
			report: CSVReport{Source: "investing", Delimiter: ",", DateFormat: us, NewestFirst: true}},
		{name: "european thousands and decimal commas (GOOGL)", adj: true, rows: googl,
			data: file("Date;Open;High;Low;Close;Adj Close;Volume", googl, "\r\n", func(r srcRow) string {
				e := func(s string) string { return groupedPrice(s, ".", ",") }
				return strings.Join([]string{dmyDot(r.date), e(r.open), e(r.high), e(r.low), e(r.close), e(r.adj), e(r.vol)}, ";")
			}),
			report: CSVReport{Source: "yahoo", Delimiter: ";", DecimalComma: true, DateFormat: "DD.MM.YYYY"}},
		{name: "ISO timestamps with a space", adj: true,
			data: file("Datetime,Open,High,Low,Close,Adj Close,Volume", rows, "\n", func(r srcRow) string {
				return strings.Join([]string{r.date + " 00:00:00", r.open, r.high, r.low, r.close, r.adj, r.vol}, ",")
			}),
			report: CSVReport{Source: "yahoo", Delimiter: ",", DateFormat: iso}},
		{name: "ISO timestamps RFC 3339",
			data: file("timestamp,open,high,low,close,volume", rows, "\n", func(r srcRow) string {
				return strings.Join([]string{r.date + "T00:00:00Z", r.open, r.high, r.low, r.close, r.vol}, ",")
			}),
			report: CSVReport{Source: "alphavantage", Delimiter: ",", DateFormat: iso}},
		{name: "title line above the header", adj: true,
			data:   append([]byte("Microsoft Corporation (MSFT) daily prices\n"), yahooFile(rows)...),
			report: CSVReport{Source: "yahoo", Delimiter: ",", DateFormat: iso, SkippedPreamble: 1}},
		{name: "multi-ticker kaggle", data: multi, opts: CSVOptions{Ticker: "MSFT"},
			report: CSVReport{Source: "kaggle", Delimiter: ",", DateFormat: iso, OtherTickerRows: len(aapl)}},
		{name: "DD/MM/YYYY settled by a day above 12", adj: true,
			data: file("Date,Open,High,Low,Close,Adj Close,Volume", rows, "\n", func(r srcRow) string {
				return strings.Join([]string{dmySlash(r.date), r.open, r.high, r.low, r.close, r.adj, r.vol}, ",")
			}),
			report: CSVReport{Source: "yahoo", Delimiter: ",", DateFormat: "DD/MM/YYYY"}},
		{name: "--columns", adj: true, opts: CSVOptions{Format: CSVFormat{Columns: columns}},
			data: file("Day,Opening,Highest,Lowest,Closing,Adjusted,Shares", rows, "\n", func(r srcRow) string {
				return strings.Join([]string{r.date, r.open, r.high, r.low, r.close, r.adj, r.vol}, ",")
			}),
			report: CSVReport{Source: "mapped", Delimiter: ",", DateFormat: iso}},
		{name: "--columns, German Latin-1 header", opts: CSVOptions{Format: CSVFormat{Columns: german}},
			data: file(string(latin1("Datum;Eröffnung;Hoch;Tief;Schluss;Volumen")), rows, "\r\n", func(r srcRow) string {
				return strings.Join([]string{dmyDot(r.date), decimalComma(r.open), decimalComma(r.high), decimalComma(r.low),
					decimalComma(r.close), grouped(r.vol, ".")}, ";")
			}),
			report: CSVReport{Source: "mapped", Delimiter: ";", DecimalComma: true, DateFormat: "DD.MM.YYYY"}},
		{name: "--date-format DD/MM/YYYY", adj: true, rows: ambiguous, opts: CSVOptions{Format: CSVFormat{DateFormat: "DD/MM/YYYY"}},
			data: file("Date,Open,High,Low,Close,Adj Close,Volume", ambiguous, "\n", func(r srcRow) string {
				return strings.Join([]string{dmySlash(r.date), r.open, r.high, r.low, r.close, r.adj, r.vol}, ",")
			}),
			report: CSVReport{Source: "yahoo", Delimiter: ",", DateFormat: "DD/MM/YYYY"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.rows
			if want == nil {
				want = rows
			}
			ref, _, err := ReadCSV(bytes.NewReader(yahooFile(want)), CSVOptions{Ticker: "MSFT"})
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstText(t, ref, want)
			got, rep, err := ReadCSV(bytes.NewReader(tc.data), tc.opts)
			if err != nil {
				t.Fatalf("%v\n%s", err, head(tc.data, 3))
			}
			tc.report.Rows = len(want)
			if rep != tc.report {
				t.Errorf("report %+v, want %+v", rep, tc.report)
			}
			if got.Ticker != "MSFT" && (tc.opts.Ticker != "" || got.Ticker != "") {
				t.Errorf("ticker %q", got.Ticker)
			}
			sameBars(t, got, ref, tc.adj, tc.volumeTol)
		})
	}
}

// TestReadCSVDateFormatNeeded: a file whose dates all fit both day/month
// orders is refused without --date-format, with the fix in the message.
func TestReadCSVDateFormatNeeded(t *testing.T) {
	rows, _ := msftRows(t)
	data := file("Date,Open,High,Low,Close,Adj Close,Volume", dayMonthAmbiguous(rows), "\n", func(r srcRow) string {
		return strings.Join([]string{dmySlash(r.date), r.open, r.high, r.low, r.close, r.adj, r.vol}, ",")
	})
	_, _, err := ReadCSV(bytes.NewReader(data), CSVOptions{})
	if err == nil {
		t.Fatal("an ambiguous day/month order was read")
	}
	for _, w := range []string{"line 2", `column "Date"`, `"02/12/2019"`, "--date-format DD/MM/YYYY", "--date-format MM/DD/YYYY"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// TestReadCSVMultiTickerOther reads the AAPL rows of the multi-ticker file.
func TestReadCSVMultiTickerOther(t *testing.T) {
	rows, _ := msftRows(t)
	aapl := aaplKaggleLines(t, 40)
	multi := "date,open,high,low,close,volume,Name\n" + strings.Join(aapl, "\n") + "\n"
	for _, r := range rows {
		multi += kaggleLine(r, "MSFT") + "\n"
	}
	got, rep, err := ReadCSV(strings.NewReader(multi), CSVOptions{Ticker: "aapl"})
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := ReadCSV(strings.NewReader("date,open,high,low,close,volume,Name\n"+strings.Join(aapl, "\n")+"\n"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != len(aapl) || rep.OtherTickerRows != len(rows) || want.Ticker != "AAPL" {
		t.Fatalf("report %+v, ticker %q", rep, want.Ticker)
	}
	sameBars(t, got, want, true, 0)
}

// aaplKaggleLines returns the first n rows of the Kaggle AAPL file.
func aaplKaggleLines(t *testing.T, n int) []string {
	t.Helper()
	b, err := os.ReadFile(sharedtest.Path(t, "sp500_5yr", "AAPL_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < n+1 || !strings.HasPrefix(lines[0], "date,open,high,low,close,volume,Name") {
		t.Fatalf("AAPL_data.csv: %d lines, header %q", len(lines), lines[0])
	}
	return lines[1 : n+1]
}

// checkAgainstText checks the reference bars against the row texts.
func checkAgainstText(t *testing.T, b *Bars, rows []srcRow) {
	t.Helper()
	if b.Len() != len(rows) {
		t.Fatalf("yahoo original: %d rows, want %d", b.Len(), len(rows))
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i, r := range rows {
		if b.Date[i].Format(DateLayout) != r.date || b.Open[i] != num(r.open) || b.High[i] != num(r.high) || b.Low[i] != num(r.low) ||
			b.Close[i] != num(r.close) || b.AdjClose[i] != num(r.adj) || b.Volume[i] != num(r.vol) {
			t.Fatalf("yahoo original row %d = %v %v %v %v %v %v %v, want %+v", i, b.Date[i], b.Open[i], b.High[i], b.Low[i], b.Close[i], b.AdjClose[i], b.Volume[i], r)
		}
	}
}

// sameBars compares got with the Yahoo original: dates and prices exactly,
// the adjusted close only where the source has one (else it must equal the
// close), volumes within tol.
func sameBars(t *testing.T, got, want *Bars, adj bool, tol float64) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%d rows, want %d", got.Len(), want.Len())
	}
	eq := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	bad := 0
	for i := range want.Date {
		wantAdj := want.Close[i]
		if adj {
			wantAdj = want.AdjClose[i]
		}
		ok := got.Date[i].Equal(want.Date[i]) && got.Date[i].Location() == want.Date[i].Location() &&
			eq(got.Open[i], want.Open[i]) && eq(got.High[i], want.High[i]) && eq(got.Low[i], want.Low[i]) &&
			eq(got.Close[i], want.Close[i]) && eq(got.AdjClose[i], wantAdj) &&
			(eq(got.Volume[i], want.Volume[i]) || math.Abs(got.Volume[i]-want.Volume[i]) <= tol)
		if !ok {
			t.Errorf("row %d: got %s %v %v %v %v adj %v vol %v, want %s %v %v %v %v adj %v vol %v", i,
				got.Date[i].Format(DateLayout), got.Open[i], got.High[i], got.Low[i], got.Close[i], got.AdjClose[i], got.Volume[i],
				want.Date[i].Format(DateLayout), want.Open[i], want.High[i], want.Low[i], want.Close[i], wantAdj, want.Volume[i])
			if bad++; bad > 3 {
				t.FailNow()
			}
		}
	}
}

func head(b []byte, n int) string {
	lines := bytes.SplitN(b, []byte("\n"), n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
