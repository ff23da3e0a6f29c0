package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/finsight/finsight/internal/frame"
)

// Column types of a schema.
const (
	TypeDate    = "date"
	TypeFloat64 = "float64"
)

// Schema describes the training bars: what every later split must look
// like. It is persisted as JSON.
type Schema struct {
	Ticker    string         `json:"ticker"`
	Rows      int            `json:"rows"`
	FirstDate string         `json:"first_date"`
	LastDate  string         `json:"last_date"`
	Columns   []ColumnSchema `json:"columns"`
}

// ColumnSchema is one column: its type, whether training had missing
// values, and the range of its present values (Min and Max are 0 when
// Present is 0; the date column's range is FirstDate..LastDate).
type ColumnSchema struct {
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Nullable bool    `json:"nullable"`
	Present  int     `json:"present"`
	Missing  int     `json:"missing"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
}

// InferSchema infers the schema of training bars.
func InferSchema(b *frame.Bars) Schema {
	s := Schema{Ticker: b.Ticker, Rows: b.Len()}
	if b.Len() > 0 {
		s.FirstDate = b.Date[0].Format(dateLayout)
		s.LastDate = b.Date[b.Len()-1].Format(dateLayout)
	}
	s.Columns = append(s.Columns, ColumnSchema{Name: ColumnDate, Type: TypeDate, Present: b.Len()})
	for _, c := range valueColumns(b) {
		s.Columns = append(s.Columns, inferColumn(c))
	}
	return s
}

// inferColumn returns the schema of one float column.
func inferColumn(c column) ColumnSchema {
	cs := ColumnSchema{Name: c.name, Type: TypeFloat64, Min: math.Inf(1), Max: math.Inf(-1)}
	for _, v := range c.values {
		if isMissing(v) {
			cs.Missing++
			continue
		}
		cs.Present++
		cs.Min = min(cs.Min, v)
		cs.Max = max(cs.Max, v)
	}
	cs.Nullable = cs.Missing > 0
	if cs.Present == 0 {
		cs.Min, cs.Max = 0, 0
	}
	return cs
}

// Column returns the schema of the named column.
func (s Schema) Column(name string) (ColumnSchema, bool) {
	for _, c := range s.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return ColumnSchema{}, false
}

// ParseSchema reads a schema persisted as JSON, rejecting unknown fields
// and columns this package does not know.
func ParseSchema(data []byte) (Schema, error) {
	var s Schema
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Schema{}, fmt.Errorf("parse schema: %w", err)
	}
	if len(s.Columns) == 0 {
		return Schema{}, errors.New("parse schema: no columns")
	}
	for _, c := range s.Columns {
		if want := expectedType(c.Name); want == "" || c.Type != want {
			return Schema{}, fmt.Errorf("parse schema: column %q of type %q: want one of date, open, high, low, close, adj_close, volume with its type", c.Name, c.Type)
		}
	}
	return s, nil
}

// expectedType is the type of a known column, "" for an unknown one.
func expectedType(name string) string {
	switch name {
	case ColumnDate:
		return TypeDate
	case ColumnOpen, ColumnHigh, ColumnLow, ColumnClose, ColumnAdjClose, ColumnVolume:
		return TypeFloat64
	}
	return ""
}
