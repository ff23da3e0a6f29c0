package activities

import (
	"bytes"
	"context"
	"fmt"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// Ingest parses a CSV (Yahoo or Kaggle header, "null" = missing) into an
// Arrow file at data/raw/<ticker>/<sha256>.arrow. The same bytes always give
// the same version, stored once.
func (a *Activities) Ingest(ctx context.Context, in steps.IngestInput) (steps.IngestResult, error) {
	ticker, err := pipeline.NormalizeTicker(in.Ticker)
	if err != nil {
		return steps.IngestResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	csv, err := a.readVerified(ctx, blob.Ref{Key: in.CSVKey})
	if err != nil {
		return steps.IngestResult{}, err
	}
	bars, err := frame.ParseCSV(bytes.NewReader(csv), ticker)
	if err != nil {
		return steps.IngestResult{}, invalid(steps.ErrInvalidData, err, "parse %s: %v", in.CSVKey, err)
	}
	if err := checkChronological(bars); err != nil {
		return steps.IngestResult{}, invalid(steps.ErrInvalidData, err, "%s: %v", in.CSVKey, err)
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
	return steps.IngestResult{
		Raw:       ref,
		FirstDate: bars.Date[0].Format("2006-01-02"),
		LastDate:  bars.Date[bars.Len()-1].Format("2006-01-02"),
		Missing:   countMissing(bars),
	}, nil
}

// checkChronological rejects files whose dates go backwards or repeat: a
// chronological split of such a file would leak the future into training.
func checkChronological(b *frame.Bars) error {
	for i := 1; i < b.Len(); i++ {
		if !b.Date[i].After(b.Date[i-1]) {
			return fmt.Errorf("row %d: date %s does not follow %s (dates must be strictly increasing)",
				i+2, b.Date[i].Format("2006-01-02"), b.Date[i-1].Format("2006-01-02"))
		}
	}
	return nil
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
