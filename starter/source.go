package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
)

// sourceFlags choose where a pipeline's data comes from: a local CSV
// (uploaded to the store), a CSV already in the store, or Yahoo Finance.
type sourceFlags struct {
	kind     *string
	csv      *string
	storeCSV *string
	start    *string
	end      *string
	format   formatFlags
}

func addSourceFlags(fs *flag.FlagSet) sourceFlags {
	return sourceFlags{
		kind:     fs.String("source", "csv", "data source: csv (a local file or --store-csv) or yahoo (--start/--end)"),
		csv:      fs.String("csv", "", "local CSV of daily prices: Yahoo, Kaggle, Nasdaq, Stooq, Alpha Vantage, Investing.com exports and the like"),
		storeCSV: fs.String("store-csv", "", "key of a CSV already in the blob store (e.g. uploads/<sha>.csv)"),
		start:    fs.String("start", "", "first day of a Yahoo download (YYYY-MM-DD)"),
		end:      fs.String("end", "", "last day of a Yahoo download (YYYY-MM-DD, default today)"),
		format:   addFormatFlags(fs),
	}
}

// formatFlags describe a CSV the reader does not recognise by itself.
type formatFlags struct {
	columns    *string
	dateFormat *string
	decimal    *string
}

func addFormatFlags(fs *flag.FlagSet) formatFlags {
	return formatFlags{
		columns: fs.String("columns", "", "map the CSV's column names when they are not recognised, e.g. date=Day,open=Opening,close=Last "+
			"(roles: date, open, high, low, close, adj_close, volume, ticker)"),
		dateFormat: fs.String("date-format", "", "the CSV's date format when it cannot be told from the file, e.g. DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY, YYYYMMDD"),
		decimal:    fs.String("decimal", "", "the CSV's decimal separator, . or , when it cannot be told from the file (a ; or tab separated file)"),
	}
}

// parse checks the flags and returns the format they describe.
func (f formatFlags) parse() (frame.CSVFormat, error) {
	cols, err := frame.ParseColumns(*f.columns)
	if err != nil {
		return frame.CSVFormat{}, fmt.Errorf("--columns: %w", err)
	}
	format := frame.CSVFormat{Columns: cols, DateFormat: strings.TrimSpace(*f.dateFormat), Decimal: strings.TrimSpace(*f.decimal)}
	if err := format.Validate(); err != nil {
		return frame.CSVFormat{}, fmt.Errorf("--date-format/--decimal: %w", err)
	}
	return format, nil
}

// resolved is a chosen source: an upload key, or a download range.
type resolved struct {
	csvKey   string
	format   frame.CSVFormat
	download *pipeline.DownloadSpec
	label    string // for people
	idPart   string // short stable part of workflow ids
}

func (f sourceFlags) resolve(ctx context.Context, store blob.Store) (resolved, error) {
	format, err := f.format.parse()
	if err != nil {
		return resolved{}, err
	}
	if !format.IsZero() && *f.kind != "csv" {
		return resolved{}, errors.New("--columns, --date-format and --decimal describe a CSV: they do not go with --source " + *f.kind)
	}
	r, err := f.resolveSource(ctx, store)
	r.format = format
	return r, err
}

func (f sourceFlags) resolveSource(ctx context.Context, store blob.Store) (resolved, error) {
	switch *f.kind {
	case "csv":
		switch {
		case *f.csv != "" && *f.storeCSV != "":
			return resolved{}, errors.New("give --csv or --store-csv, not both")
		case *f.storeCSV != "":
			if err := blob.ValidateKey(*f.storeCSV); err != nil {
				return resolved{}, err
			}
			ok, err := store.Exists(ctx, *f.storeCSV)
			if err != nil {
				return resolved{}, fmt.Errorf("check %s: %w", *f.storeCSV, err)
			}
			if !ok {
				return resolved{}, fmt.Errorf("no object %s in the store", *f.storeCSV)
			}
			return resolved{csvKey: *f.storeCSV, label: store.URI(*f.storeCSV), idPart: "store"}, nil
		case *f.csv != "":
			key, sum, err := uploadCSV(ctx, store, *f.csv)
			if err != nil {
				return resolved{}, err
			}
			return resolved{csvKey: key, label: filepath.Base(*f.csv), idPart: sum[:8]}, nil
		}
		return resolved{}, errors.New("--csv FILE (or --store-csv KEY, or --source yahoo) is required")
	case "yahoo":
		start, end := *f.start, *f.end
		if end == "" {
			end = time.Now().UTC().Format("2006-01-02")
		}
		for _, d := range []string{start, end} {
			if _, err := time.Parse("2006-01-02", d); err != nil {
				return resolved{}, fmt.Errorf("--start and --end must be YYYY-MM-DD, got %q", d)
			}
		}
		if start >= end {
			return resolved{}, fmt.Errorf("--start %s must be before --end %s", start, end)
		}
		return resolved{download: &pipeline.DownloadSpec{Start: start, End: end},
			label: "Yahoo Finance " + start + ".." + end, idPart: "yahoo"}, nil
	}
	return resolved{}, fmt.Errorf("unknown --source %q: want csv or yahoo", *f.kind)
}
