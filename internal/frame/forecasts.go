package frame

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Forecasts are several models' forecasts of the same targets: one row
// per target date, the actual value, the last value known at the origin
// and one column per model (a backtest fold's test block).
type Forecasts struct {
	Date   []time.Time
	Actual []float64
	Last   []float64
	Models []string    // column names, in order
	Pred   [][]float64 // Pred[i] is Models[i]'s forecasts
}

// Len is the number of rows.
func (f *Forecasts) Len() int { return len(f.Date) }

// reserved are the column names a model may not take.
var reserved = []string{"date", "actual", "last"}

func (f *Forecasts) check() error {
	if len(f.Actual) != f.Len() || len(f.Last) != f.Len() {
		return fmt.Errorf("%d actual and %d last values for %d dates", len(f.Actual), len(f.Last), f.Len())
	}
	if len(f.Models) != len(f.Pred) {
		return fmt.Errorf("%d model names for %d forecast columns", len(f.Models), len(f.Pred))
	}
	for i, m := range f.Models {
		if slices.Contains(reserved, m) || slices.Index(f.Models, m) != i || m == "" {
			return fmt.Errorf("model name %q is empty, reserved or repeated", m)
		}
		if len(f.Pred[i]) != f.Len() {
			return fmt.Errorf("model %q has %d forecasts for %d dates", m, len(f.Pred[i]), f.Len())
		}
	}
	return nil
}

// WriteForecasts writes f as a zstd-compressed Arrow IPC file.
func WriteForecasts(w io.Writer, f *Forecasts, mem memory.Allocator) error {
	if err := f.check(); err != nil {
		return fmt.Errorf("write forecasts: %w", err)
	}
	fields := []arrow.Field{{Name: "date", Type: arrow.FixedWidthTypes.Date32}}
	for _, name := range append(reserved[1:], f.Models...) {
		fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64})
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	db := rb.Field(0).(*array.Date32Builder)
	for _, d := range f.Date {
		db.Append(arrow.Date32FromTime(d))
	}
	for i, col := range append([][]float64{f.Actual, f.Last}, f.Pred...) {
		rb.Field(i+1).(*array.Float64Builder).AppendValues(col, nil)
	}
	rec := rb.NewRecord()
	defer rec.Release()
	if err := writeRecordFile(w, rec, mem); err != nil {
		return fmt.Errorf("write forecasts: %w", err)
	}
	return nil
}

// ReadForecasts reads a file written by WriteForecasts.
func ReadForecasts(r io.Reader, mem memory.Allocator) (*Forecasts, error) {
	f := &Forecasts{}
	schema, err := readRecordFile(r, mem, func(rec arrow.Record) error {
		if f.Models == nil {
			for _, fd := range rec.Schema().Fields()[1:] {
				if !slices.Contains(reserved, fd.Name) {
					f.Models = append(f.Models, fd.Name)
				}
			}
			f.Pred = make([][]float64, len(f.Models))
		}
		dates, err := column[*array.Date32](rec, "date")
		if err != nil {
			return err
		}
		for _, d := range dates.Date32Values() {
			f.Date = append(f.Date, d.ToTime())
		}
		cols := append([]*[]float64{&f.Actual, &f.Last}, pointers(f.Pred)...)
		for i, name := range append(reserved[1:], f.Models...) {
			col, err := column[*array.Float64](rec, name)
			if err != nil {
				return err
			}
			*cols[i] = append(*cols[i], col.Float64Values()...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read forecasts: %w", err)
	}
	if schema == nil || f.Len() == 0 {
		return nil, fmt.Errorf("read forecasts: no rows")
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("read forecasts: %w", err)
	}
	return f, nil
}

func pointers(cols [][]float64) []*[]float64 {
	out := make([]*[]float64, len(cols))
	for i := range cols {
		out[i] = &cols[i]
	}
	return out
}

// Column is the forecasts of model name, or nil.
func (f *Forecasts) Column(name string) []float64 {
	if i := slices.Index(f.Models, name); i >= 0 {
		return f.Pred[i]
	}
	return nil
}
