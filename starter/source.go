package main

import (
	"context"
	"errors"
	"flag"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

// sourceFlags choose where a pipeline's data comes from: a local CSV
// (uploaded to the store), a CSV already in the store, or Yahoo Finance.
// They bind the fields of a pipeline.DataRequest, the request POST /train
// reads as JSON; --csv is the starter's own (the API takes an upload).
type sourceFlags struct {
	req *pipeline.DataRequest
	csv *string
}

func addSourceFlags(fs *flag.FlagSet, req *pipeline.DataRequest) sourceFlags {
	fs.StringVar(&req.Source, "source", req.Source, "data source: csv (a local file or --store-csv) or yahoo (--start/--end)")
	csv := fs.String("csv", "", "local CSV of daily prices: Yahoo, Kaggle, Nasdaq, Stooq, Alpha Vantage, Investing.com exports and the like")
	fs.StringVar(&req.StoreCSV, "store-csv", req.StoreCSV, "key of a CSV already in the blob store (e.g. uploads/<sha>.csv)")
	fs.StringVar(&req.Start, "start", req.Start, "first day of a Yahoo download (YYYY-MM-DD)")
	fs.StringVar(&req.End, "end", req.End, "last day of a Yahoo download (YYYY-MM-DD, default today)")
	bindFormatFlags(fs, &req.Columns, &req.DateFormat, &req.Decimal)
	return sourceFlags{req: req, csv: csv}
}

// formatFlags describe a CSV the reader does not recognise by itself.
type formatFlags struct {
	columns    *string
	dateFormat *string
	decimal    *string
}

func addFormatFlags(fs *flag.FlagSet) formatFlags {
	f := formatFlags{columns: new(string), dateFormat: new(string), decimal: new(string)}
	bindFormatFlags(fs, f.columns, f.dateFormat, f.decimal)
	return f
}

// parse checks the flags and returns the format they describe.
func (f formatFlags) parse() (frame.CSVFormat, error) {
	format, err := pipeline.DataRequest{Columns: *f.columns, DateFormat: *f.dateFormat, Decimal: *f.decimal}.CSVFormat()
	return format, flagError(err)
}

// bindFormatFlags binds the format flags to a request's fields.
func bindFormatFlags(fs *flag.FlagSet, columns, dateFormat, decimal *string) {
	fs.StringVar(columns, "columns", *columns, "map the CSV's column names when they are not recognised, e.g. date=Day,open=Opening,close=Last "+
		"(roles: date, open, high, low, close, adj_close, volume, ticker)")
	fs.StringVar(dateFormat, "date-format", *dateFormat, "the CSV's date format when it cannot be told from the file, e.g. DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY, YYYYMMDD")
	fs.StringVar(decimal, "decimal", *decimal, "the CSV's decimal separator, . or , when it cannot be told from the file (a ; or tab separated file)")
}

// check checks the flags without touching the store.
func (f sourceFlags) check() error {
	return flagError(f.req.Check(*f.csv != ""))
}

// upload puts --csv into the store (nil when there is none). Call check
// first.
func (f sourceFlags) upload(ctx context.Context, store blob.Store) (*launch.Upload, error) {
	if *f.csv == "" {
		return nil, nil
	}
	up, err := launch.UploadFile(ctx, store, *f.csv)
	if err != nil {
		return nil, err
	}
	return &up, nil
}

// resolve uploads --csv (if given) and finds the data, with its SHA-256
// ("" for a download).
func (f sourceFlags) resolve(ctx context.Context, store blob.Store) (pipeline.TrainingData, string, error) {
	if err := f.check(); err != nil {
		return pipeline.TrainingData{}, "", err
	}
	up, err := f.upload(ctx, store)
	if err != nil {
		return pipeline.TrainingData{}, "", err
	}
	data, sum, err := launch.ResolveData(ctx, store, *f.req, up, time.Now())
	return data, sum, flagError(err)
}

// flagError writes a request's field error (pipeline.FieldError) in the
// starter's terms, naming each field by its flag; other errors are
// returned as they are.
func flagError(err error) error {
	var fe *pipeline.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	return errors.New(flagName(fe.Field) + ": " + fe.Text(flagName))
}

// flagName is the flag of a request field: its JSON name with '-' for
// '_'; the uploaded file is --csv.
func flagName(field string) string {
	if field == "file" {
		return "--csv"
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}
