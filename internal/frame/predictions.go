package frame

import (
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Predictions are a model's test-set forecasts beside the truth and the
// naive forecast, in price units, one row per target date.
type Predictions struct {
	Date      []time.Time
	Actual    []float64
	Predicted []float64
	Naive     []float64 // the last known value when forecasting
}

// Len is the number of rows.
func (p *Predictions) Len() int { return len(p.Date) }

var predictionColumns = []string{"actual", "predicted", "naive"}

func (p *Predictions) cols() []*[]float64 { return []*[]float64{&p.Actual, &p.Predicted, &p.Naive} }

// WritePredictions writes p as a zstd-compressed Arrow IPC file.
func WritePredictions(w io.Writer, p *Predictions, mem memory.Allocator) error {
	fields := []arrow.Field{{Name: "date", Type: arrow.FixedWidthTypes.Date32}}
	for i, c := range p.cols() {
		if len(*c) != p.Len() {
			return fmt.Errorf("write predictions: %s has %d values for %d dates", predictionColumns[i], len(*c), p.Len())
		}
		fields = append(fields, arrow.Field{Name: predictionColumns[i], Type: arrow.PrimitiveTypes.Float64})
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	db := rb.Field(0).(*array.Date32Builder)
	for _, d := range p.Date {
		db.Append(arrow.Date32FromTime(d))
	}
	for i, c := range p.cols() {
		rb.Field(i+1).(*array.Float64Builder).AppendValues(*c, nil)
	}
	rec := rb.NewRecord()
	defer rec.Release()
	if err := writeRecordFile(w, rec, mem); err != nil {
		return fmt.Errorf("write predictions: %w", err)
	}
	return nil
}

// ReadPredictions reads a file written by WritePredictions.
func ReadPredictions(r io.Reader, mem memory.Allocator) (*Predictions, error) {
	p := &Predictions{}
	_, err := readRecordFile(r, mem, func(rec arrow.Record) error {
		dates, err := column[*array.Date32](rec, "date")
		if err != nil {
			return err
		}
		for _, d := range dates.Date32Values() {
			p.Date = append(p.Date, d.ToTime())
		}
		for i, c := range p.cols() {
			col, err := column[*array.Float64](rec, predictionColumns[i])
			if err != nil {
				return err
			}
			*c = append(*c, col.Float64Values()...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read predictions: %w", err)
	}
	return p, nil
}
