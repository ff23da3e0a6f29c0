package frame

import (
	"fmt"
	"io"
	"strings"
)

// DateLayout is the date format of bar CSVs FinSight writes.
const DateLayout = "2006-01-02"

// DefaultMaxLineBytes bounds one line of a price file: a daily bar is under
// 200 bytes, so a longer line is junk and is refused before the rest of the
// file is read.
const DefaultMaxLineBytes = 64 << 10

// maxFieldBytes bounds one field (a header name or a value).
const maxFieldBytes = 1 << 10

// CSVOptions tells ReadCSV what it cannot work out from the file itself.
type CSVOptions struct {
	// Ticker keeps the rows of this ticker when the file has a ticker
	// column (Kaggle's Name, Symbol, Stooq's <TICKER>), which may hold
	// several; "" takes the file's only ticker.
	Ticker string
	Format CSVFormat
	// MaxLineBytes bounds a line (DefaultMaxLineBytes when 0).
	MaxLineBytes int
}

// CSVFormat is what a person says about a file whose shape the reader does
// not recognise: starter --columns/--date-format, the columns and
// date_format form fields of a /predict upload, or a JSON sidecar beside an
// inbox file. The zero value detects everything.
type CSVFormat struct {
	Columns    ColumnNames `json:"columns,omitempty"`
	DateFormat string      `json:"date_format,omitempty"` // e.g. DD/MM/YYYY; "" detects
	// Decimal is the decimal separator, "." or ","; "" detects it (a
	// comma-separated file has ".").
	Decimal string `json:"decimal,omitempty"`
}

// ColumnNames names the header of each column role; "" leaves the role to
// detection.
type ColumnNames struct {
	Date     string `json:"date,omitempty"`
	Open     string `json:"open,omitempty"`
	High     string `json:"high,omitempty"`
	Low      string `json:"low,omitempty"`
	Close    string `json:"close,omitempty"`
	AdjClose string `json:"adj_close,omitempty"`
	Volume   string `json:"volume,omitempty"`
	Ticker   string `json:"ticker,omitempty"`
}

// IsZero reports whether f leaves everything to detection.
func (f CSVFormat) IsZero() bool { return f == CSVFormat{} }

// Validate checks the date format and column names before any file is read.
func (f CSVFormat) Validate() error {
	if f.DateFormat != "" {
		if _, err := compileDateFormat(f.DateFormat); err != nil {
			return err
		}
	}
	if f.Decimal != "" && f.Decimal != "." && f.Decimal != "," {
		return fmt.Errorf("decimal separator %q: want . or ,", f.Decimal)
	}
	for _, rc := range f.Columns.byRole() {
		if strings.TrimSpace(rc.name) != rc.name || len(rc.name) > maxFieldBytes {
			return fmt.Errorf("column name %q for %s: no leading or trailing spaces, at most %d bytes", rc.name, roleNames[rc.role], maxFieldBytes)
		}
	}
	return nil
}

// String writes f the way ParseColumns and --date-format read it.
func (f CSVFormat) String() string {
	var parts []string
	if c := f.Columns.String(); c != "" {
		parts = append(parts, "columns "+c)
	}
	if f.DateFormat != "" {
		parts = append(parts, "date format "+f.DateFormat)
	}
	if f.Decimal != "" {
		parts = append(parts, "decimal "+f.Decimal)
	}
	return strings.Join(parts, ", ")
}

// CSVReport says how a file was read, for run records and answers.
type CSVReport struct {
	Source       string `json:"source"`    // yahoo, kaggle, nasdaq, stooq, alphavantage, investing, mapped or generic
	Delimiter    string `json:"delimiter"` // ",", ";", "\t" or "|"
	DecimalComma bool   `json:"decimal_comma,omitempty"`
	DateFormat   string `json:"date_format"` // as --date-format spells it
	// NewestFirst: the rows ran newest-first and were sorted ascending.
	NewestFirst bool `json:"newest_first,omitempty"`
	Rows        int  `json:"rows"`
	// OtherTickerRows counts rows of other tickers that were left out.
	OtherTickerRows int `json:"other_ticker_rows,omitempty"`
	// SkippedPreamble counts lines above the header (a title) left out.
	SkippedPreamble int `json:"skipped_preamble,omitempty"`
}

// Summary is one line saying how the file was read.
func (r CSVReport) Summary() string {
	delim := map[string]string{",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[r.Delimiter]
	s := fmt.Sprintf("read %d rows as a %s file (%s-separated", r.Rows, r.Source, delim)
	if r.DecimalComma {
		s += ", decimal commas"
	}
	s += ", dates " + r.DateFormat + ")"
	if r.NewestFirst {
		s += "; its rows ran newest-first and were sorted oldest-first"
	}
	if r.OtherTickerRows > 0 {
		s += fmt.Sprintf("; %d rows of other tickers left out", r.OtherTickerRows)
	}
	if r.SkippedPreamble > 0 {
		s += fmt.Sprintf("; %d lines above the header left out", r.SkippedPreamble)
	}
	return s
}

// ParseCSV reads daily bars with everything detected; see ReadCSV.
func ParseCSV(r io.Reader, ticker string) (*Bars, error) {
	b, _, err := ReadCSV(r, CSVOptions{Ticker: ticker})
	return b, err
}

// ReadCSV reads one ticker's daily bars from the price files people have:
// Yahoo, Kaggle, Nasdaq, Stooq, Alpha Vantage and Investing.com exports and
// anything else whose columns opts.Format names. It detects the delimiter
// (, ; tab |), a UTF-8 BOM, CRLF, quoted fields, decimal commas and
// thousands separators (where the delimiter makes them unambiguous),
// currency symbols and the date format (ISO, MM/DD/YYYY, DD/MM/YYYY,
// DD.MM.YYYY, YYYYMMDD, month names; a time of day is dropped). A day/month
// order the file does not settle is refused, not guessed. Newest-first
// files come back oldest-first. Empty fields, null, NaN, N/A and - are
// missing values (NaN).
//
// It streams: memory is bounded by the kept rows, not the file, and a line
// over opts.MaxLineBytes is refused without reading further. Every refusal
// is a *CSVError naming the line, the column, the value, what was expected
// and how to fix it.
func ReadCSV(r io.Reader, opts CSVOptions) (*Bars, CSVReport, error) {
	rd, err := newCSVReader(r, opts)
	if err != nil {
		return nil, CSVReport{}, err
	}
	return rd.readAll()
}
