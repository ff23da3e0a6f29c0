package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// Ingest reads an uploaded price file with frame.ReadCSV (any common
// export; in.Format names what it cannot detect) into an Arrow file at
// data/raw/<ticker>/<sha256>.arrow, oldest row first. The same bars always
// give the same version, stored once: a newest-first copy of a file is the
// same version as the file. The CSV is streamed from the store, so its
// size does not bound the worker's memory.
func (a *Activities) Ingest(ctx context.Context, in steps.IngestInput) (steps.IngestResult, error) {
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return steps.IngestResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	if err := in.Format.Validate(); err != nil {
		return steps.IngestResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	r, err := a.Store.Get(ctx, in.CSVKey)
	if err != nil {
		return steps.IngestResult{}, storeErr(err, "read %s", in.CSVKey)
	}
	defer r.Close()
	bars, read, err := frame.ReadCSV(r, frame.CSVOptions{Ticker: ticker, Format: in.Format})
	var refused *frame.CSVError
	switch {
	case errors.As(err, &refused):
		return steps.IngestResult{}, invalid(steps.ErrInvalidData, err, "%s: %v", in.CSVKey, err)
	case err != nil: // the store failed mid-file: retried
		return steps.IngestResult{}, storeErr(err, "read %s", in.CSVKey)
	}
	var buf bytes.Buffer
	if err := frame.WriteBars(&buf, bars, a.Mem); err != nil {
		return steps.IngestResult{}, fmt.Errorf("encode raw bars: %w", err)
	}
	key := fmt.Sprintf("data/raw/%s/%s.arrow", ticker, blob.ContentHash(buf.Bytes()))
	ref, err := a.putImmutable(ctx, key, buf.Bytes(), bars.Len())
	if err != nil {
		return steps.IngestResult{}, err
	}
	activity.GetLogger(ctx).Info("ingested", "csv", in.CSVKey, "read", read.Summary())
	return steps.IngestResult{
		Raw:       ref,
		FirstDate: bars.Date[0].Format("2006-01-02"),
		LastDate:  bars.Date[bars.Len()-1].Format("2006-01-02"),
		Missing:   countMissing(bars),
		Read:      read,
	}, nil
}

func countMissing(b *frame.Bars) int {
	n := 0
	for _, col := range [][]float64{b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume} {
		for _, v := range col {
			if v != v {
				n++
			}
		}
	}
	return n
}
