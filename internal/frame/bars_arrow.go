package frame

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// barsSchema is the Arrow schema of a bars file: date32 plus nullable
// float64 columns (null = missing), with the ticker in the metadata.
func barsSchema(b *Bars) *arrow.Schema {
	fields := []arrow.Field{{Name: "date", Type: arrow.FixedWidthTypes.Date32}}
	for _, c := range (&Bars{}).columns() {
		fields = append(fields, arrow.Field{Name: c.name, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	}
	md := arrow.NewMetadata([]string{"ticker", "breaks", "lineage"}, []string{b.Ticker, formatInts(b.Breaks), b.Lineage})
	return arrow.NewSchema(fields, &md)
}

// WriteBars writes b as a zstd-compressed Arrow IPC file.
func WriteBars(w io.Writer, b *Bars, mem memory.Allocator) error {
	if err := b.validate(); err != nil {
		return fmt.Errorf("write bars: %w", err)
	}
	rb := array.NewRecordBuilder(mem, barsSchema(b))
	defer rb.Release()
	rb.Reserve(b.Len())
	db := rb.Field(0).(*array.Date32Builder)
	for _, d := range b.Date {
		db.Append(arrow.Date32FromTime(d))
	}
	for i, c := range b.columns() {
		appendNaNAsNull(rb.Field(i+1).(*array.Float64Builder), *c.values)
	}
	rec := rb.NewRecord()
	defer rec.Release()
	if err := writeRecordFile(w, rec, mem); err != nil {
		return fmt.Errorf("write bars %s: %w", b.Ticker, err)
	}
	return nil
}

// ReadBars reads a file written by WriteBars. Nulls become NaN. If r is
// not an io.ReaderAt and io.Seeker, the file is read into memory first.
func ReadBars(r io.Reader, mem memory.Allocator) (*Bars, error) {
	b := NewBars("", 0)
	schema, err := readRecordFile(r, mem, func(rec arrow.Record) error {
		return appendBarsRecord(b, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("read bars: %w", err)
	}
	b.Ticker, _ = metadataValue(schema, "ticker")
	b.Lineage, _ = metadataValue(schema, "lineage")
	if s, ok := metadataValue(schema, "breaks"); ok {
		if b.Breaks, err = parseInts(s); err != nil {
			return nil, fmt.Errorf("read bars: breaks metadata: %w", err)
		}
	}
	return b, nil
}

func appendBarsRecord(b *Bars, rec arrow.Record) error {
	dates, err := column[*array.Date32](rec, "date")
	if err != nil {
		return err
	}
	for _, d := range dates.Date32Values() {
		b.Date = append(b.Date, d.ToTime())
	}
	for _, c := range b.columns() {
		col, err := column[*array.Float64](rec, c.name)
		if err != nil {
			return err
		}
		*c.values = appendNullAsNaN(*c.values, col)
	}
	return nil
}

func formatInts(vs []int) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func parseInts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", p, err)
		}
		out[i] = v
	}
	return out, nil
}
