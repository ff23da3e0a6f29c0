package frame

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/sharedtest"
)

// headLines returns lines [from, to) (1-based, to exclusive) of a shared
// data file, each with its "\n", and the header (line 1) first when from > 1.
func headLines(tb testing.TB, from, to int, parts ...string) string {
	tb.Helper()
	f, err := os.Open(sharedtest.Path(tb, parts...))
	if err != nil {
		tb.Fatalf("open seed file: %v", err)
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; n < to && sc.Scan(); n++ {
		if n == 1 && from > 1 || n >= from {
			b.WriteString(sc.Text() + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read seed file: %v", err)
	}
	return b.String()
}

// csvSeeds are the seed inputs of FuzzReadCSV: the first lines of real
// files (../shared/data) and the shapes that real exports come in.
func csvSeeds(tb testing.TB) []string {
	nflx := headLines(tb, 1, 31, "single", "NFLX.csv")        // Yahoo
	aaplNull := headLines(tb, 150, 180, "single", "AAPL.csv") // Yahoo: 1981-08-10 is all null
	bhf := headLines(tb, 1, 31, "sp500_5yr", "BHF_data.csv")  // Kaggle: line 9 has ,,,
	msft := headLines(tb, 1, 16, "sp500_5yr", "MSFT_data.csv")
	aapl := headLines(tb, 2, 16, "sp500_5yr", "AAPL_data.csv")
	aapl = aapl[strings.IndexByte(aapl, '\n')+1:] // without its header: one multi-ticker file
	crlf := strings.ReplaceAll(nflx, "\n", "\r\n")
	euro := strings.NewReplacer(",", ";", ".", ",").Replace(nflx) // decimal commas
	var newestFirst strings.Builder
	rows := strings.Split(strings.TrimSuffix(nflx, "\n"), "\n")
	newestFirst.WriteString(rows[0] + "\n")
	for i := len(rows) - 1; i > 0; i-- {
		newestFirst.WriteString(rows[i] + "\n")
	}
	return []string{
		nflx, aaplNull, bhf, msft + aapl, newestFirst.String(),
		"\ufeff" + nflx, crlf, strings.ReplaceAll(nflx, "\n", "\r"), euro,
		"Datum;Er\xf6ffnung;Hoch;Tief;Schluss;Volumen\r\n02.12.2019;151,81;151,83;148,32;149,55;27.418.400\r\n03.12.2019;147,49;149,43;146,65;149,31;24.066.000\r\n", // Latin-1
		"\"Date\",\"Open\",\"High\",\"Low\",\"Close\",\"Volume\"\n\"12/02/2019\",\"1,151.81\",\"151.83\",\"148.32\",\"149.55\",\"27,418,400\"\n\"12/13/2019\",\"153.00\",\"154.89\",\"152.83\",\"154.53\",\"23,845,400\"\n",
		"Date,Open,High,Low,Close,Volume,Note\n2019-12-02,1,2,0.5,1.5,100,\"a \"\"quoted\"\"\nline break\"\n2019-12-03,1,2,0.5,1.5,100,x\n",
		"Date,Open,High,Low,Close,Volume\n2019-12-02,1,2,0.5,1.5,\"unterminated\n",
		"Date,Open,High,Low,Close,Volume\n2019-12-02," + strings.Repeat("9", 70<<10) + ",2,0.5,1.5,100\n", // a 70 KiB line
		"<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\nMSFT.US,D,20191202,000000,151.81,151.83,148.32,149.55,27418400,0\n",
		"Date,Close/Last,Volume,Open,High,Low\n12/03/2019,$149.31,24066000,$147.49,$149.43,$146.65\n12/02/2019,$149.55,27418400,$151.81,$151.83,$148.32\n",
		"\xff\xfeD\x00a\x00t\x00e\x00", // UTF-16
		"",
	}
}

// FuzzReadCSV reads arbitrary bytes, with arbitrary options, as a price
// file. The reader must not panic; it refuses with a *CSVError (or, for
// options that do not validate, an error), or returns what it documents:
// at least one row, every column one value per date, dates at UTC midnight
// strictly increasing (newest-first files come back oldest-first), and
// numbers that are NaN (missing) or finite (it refuses numbers out of
// range).
func FuzzReadCSV(f *testing.F) {
	for _, s := range csvSeeds(f) {
		f.Add([]byte(s), "", "", "", "")
	}
	f.Add([]byte(headLines(f, 1, 16, "sp500_5yr", "MSFT_data.csv")), "msft", "", "", "")
	f.Add([]byte("Day;Opening;Hi;Lo;Last;Vol\n31/12/2019;1,5;2;1;1,5;10\n"), "X", "DD/MM/YYYY", ",", "date=Day,open=Opening,high=Hi,low=Lo,close=Last,volume=Vol")
	f.Fuzz(func(t *testing.T, data []byte, ticker, dateFormat, decimal, columns string) {
		opts := CSVOptions{Ticker: ticker, Format: CSVFormat{DateFormat: dateFormat, Decimal: decimal}}
		if cols, err := ParseColumns(columns); err == nil {
			opts.Format.Columns = cols
		}
		b, rep, err := ReadCSV(bytes.NewReader(data), opts)
		if err != nil {
			var ce *CSVError
			switch {
			case b != nil:
				t.Fatalf("bars returned with error %v", err)
			case err.Error() == "":
				t.Fatal("empty error message")
			case opts.Format.Validate() == nil && !errors.As(err, &ce):
				t.Fatalf("refusal %T is not a *CSVError: %v", err, err)
			}
			return
		}
		checkReadBars(t, b, rep)
	})
}

// checkReadBars checks what ReadCSV documents about the bars it returns.
func checkReadBars(t *testing.T, b *Bars, rep CSVReport) {
	t.Helper()
	if b.Len() == 0 || rep.Rows != b.Len() {
		t.Fatalf("%d rows, report says %d: want at least one, the same", b.Len(), rep.Rows)
	}
	if err := b.validate(); err != nil {
		t.Fatal(err)
	}
	for i, d := range b.Date {
		if d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
			t.Fatalf("row %d: date %v is not a UTC midnight", i, d)
		}
		if i > 0 && !d.After(b.Date[i-1]) {
			t.Fatalf("row %d: date %v does not follow %v", i, d, b.Date[i-1])
		}
	}
	for _, c := range b.columns() {
		for i, v := range *c.values {
			if math.IsInf(v, 0) {
				t.Fatalf("row %d (%s): %s is %v: a number out of range must be refused", i, b.Date[i].Format(DateLayout), c.name, v)
			}
		}
	}
}
