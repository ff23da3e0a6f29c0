package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/finsight/finsight/internal/blob"
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
}

func addSourceFlags(fs *flag.FlagSet) sourceFlags {
	return sourceFlags{
		kind:     fs.String("source", "csv", "data source: csv (a local file or --store-csv) or yahoo (--start/--end)"),
		csv:      fs.String("csv", "", "local CSV of daily prices, Yahoo or Kaggle header"),
		storeCSV: fs.String("store-csv", "", "key of a CSV already in the blob store (e.g. uploads/<sha>.csv)"),
		start:    fs.String("start", "", "first day of a Yahoo download (YYYY-MM-DD)"),
		end:      fs.String("end", "", "last day of a Yahoo download (YYYY-MM-DD, default today)"),
	}
}

// resolved is a chosen source: an upload key, or a download range.
type resolved struct {
	csvKey   string
	download *pipeline.DownloadSpec
	label    string // for people
	idPart   string // short stable part of workflow ids
}

func (f sourceFlags) resolve(ctx context.Context, store blob.Store) (resolved, error) {
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
