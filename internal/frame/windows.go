package frame

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Windows are the model's supervised samples: N windows of Lookback days
// by Features features, each with a scaled label.
type Windows struct {
	Lookback int
	Features int
	// X has N*Lookback*Features values, row-major [N][Lookback][Features].
	X []float32
	// Y is the scaled label of each window.
	Y []float32
	// TargetDate is the date of each label.
	TargetDate []time.Time
	// Last is the last raw (unscaled) value of the target feature in each
	// window, for naive forecasts and unscaling.
	Last []float64
	// Target is the raw (unscaled) label in price units.
	Target []float64
}

// Len returns the number of windows.
func (w *Windows) Len() int { return len(w.Y) }

func (w *Windows) validate() error {
	n := w.Len()
	switch {
	case w.Lookback <= 0 || w.Features <= 0:
		return fmt.Errorf("lookback %d and features %d must be positive", w.Lookback, w.Features)
	case len(w.X) != n*w.Lookback*w.Features:
		return fmt.Errorf("x has %d values, want %d*%d*%d", len(w.X), n, w.Lookback, w.Features)
	case len(w.TargetDate) != n || len(w.Last) != n || len(w.Target) != n:
		return fmt.Errorf("target_date, last, target have %d, %d, %d values, want %d",
			len(w.TargetDate), len(w.Last), len(w.Target), n)
	}
	return nil
}

// windowsSchema: x FixedSizeList<float32>[lookback*features], y float32,
// target_date date32, last and target float64; lookback and features in the
// metadata. NaN values are stored as NaN (not null).
func windowsSchema(lookback, features int) *arrow.Schema {
	md := arrow.NewMetadata(
		[]string{"lookback", "features"},
		[]string{strconv.Itoa(lookback), strconv.Itoa(features)},
	)
	return arrow.NewSchema([]arrow.Field{
		{Name: "x", Type: arrow.FixedSizeListOf(int32(lookback*features), arrow.PrimitiveTypes.Float32)},
		{Name: "y", Type: arrow.PrimitiveTypes.Float32},
		{Name: "target_date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "last", Type: arrow.PrimitiveTypes.Float64},
		{Name: "target", Type: arrow.PrimitiveTypes.Float64},
	}, &md)
}

// WriteWindows writes win as a zstd-compressed Arrow IPC file.
func WriteWindows(w io.Writer, win *Windows, mem memory.Allocator) error {
	if err := win.validate(); err != nil {
		return fmt.Errorf("write windows: %w", err)
	}
	rb := array.NewRecordBuilder(mem, windowsSchema(win.Lookback, win.Features))
	defer rb.Release()
	xb := rb.Field(0).(*array.FixedSizeListBuilder)
	for range win.Len() {
		xb.Append(true)
	}
	xb.ValueBuilder().(*array.Float32Builder).AppendValues(win.X, nil)
	rb.Field(1).(*array.Float32Builder).AppendValues(win.Y, nil)
	db := rb.Field(2).(*array.Date32Builder)
	for _, d := range win.TargetDate {
		db.Append(arrow.Date32FromTime(d))
	}
	rb.Field(3).(*array.Float64Builder).AppendValues(win.Last, nil)
	rb.Field(4).(*array.Float64Builder).AppendValues(win.Target, nil)
	rec := rb.NewRecord()
	defer rec.Release()
	if err := writeRecordFile(w, rec, mem); err != nil {
		return fmt.Errorf("write windows: %w", err)
	}
	return nil
}

// ReadWindows reads a file written by WriteWindows. If r is not an
// io.ReaderAt and io.Seeker, the file is read into memory first.
func ReadWindows(r io.Reader, mem memory.Allocator) (*Windows, error) {
	win := &Windows{}
	schema, err := readRecordFile(r, mem, func(rec arrow.Record) error {
		return appendWindowsRecord(win, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	if win.Lookback, err = metadataInt(schema, "lookback"); err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	if win.Features, err = metadataInt(schema, "features"); err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	if err := win.validate(); err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	return win, nil
}

func appendWindowsRecord(win *Windows, rec arrow.Record) error {
	x, err := column[*array.FixedSizeList](rec, "x")
	if err != nil {
		return err
	}
	y, err := column[*array.Float32](rec, "y")
	if err != nil {
		return err
	}
	dates, err := column[*array.Date32](rec, "target_date")
	if err != nil {
		return err
	}
	last, err := column[*array.Float64](rec, "last")
	if err != nil {
		return err
	}
	target, err := column[*array.Float64](rec, "target")
	if err != nil {
		return err
	}
	if x.Len() > 0 {
		values, ok := x.ListValues().(*array.Float32)
		if !ok {
			return fmt.Errorf("column x has element type %s, want float32", x.ListValues().DataType())
		}
		start, _ := x.ValueOffsets(0)
		_, end := x.ValueOffsets(x.Len() - 1)
		win.X = append(win.X, values.Float32Values()[start:end]...)
	}
	win.Y = append(win.Y, y.Float32Values()...)
	for _, d := range dates.Date32Values() {
		win.TargetDate = append(win.TargetDate, d.ToTime())
	}
	win.Last = append(win.Last, last.Float64Values()...)
	win.Target = append(win.Target, target.Float64Values()...)
	return nil
}

func metadataInt(schema *arrow.Schema, key string) (int, error) {
	s, ok := metadataValue(schema, key)
	if !ok {
		return 0, fmt.Errorf("missing metadata %q", key)
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("metadata %s=%q: %w", key, s, err)
	}
	return v, nil
}
