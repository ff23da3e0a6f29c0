package validate

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestInferSchema(t *testing.T) {
	b := barsFromOpen(t, []float64{3, math.NaN(), 1, 2})
	b.Volume[1] = 50
	s := InferSchema(b)
	if s.Rows != 4 || s.FirstDate != "2019-01-07" || s.LastDate != "2019-01-10" || s.Ticker != "T" {
		t.Fatalf("header: %+v", s)
	}
	open, _ := s.Column(ColumnOpen)
	if want := (ColumnSchema{Name: "open", Type: TypeFloat64, Nullable: true, Present: 3, Missing: 1, Min: 1, Max: 3}); open != want {
		t.Fatalf("open: got %+v, want %+v", open, want)
	}
	vol, _ := s.Column(ColumnVolume)
	if want := (ColumnSchema{Name: "volume", Type: TypeFloat64, Present: 4, Min: 50, Max: 1000}); vol != want {
		t.Fatalf("volume: got %+v, want %+v", vol, want)
	}
	if d, _ := s.Column(ColumnDate); d.Type != TypeDate || d.Nullable {
		t.Fatalf("date: %+v", d)
	}
}

func TestSchemaJSONRoundTripAndFieldNames(t *testing.T) {
	s := InferSchema(loadBars(t, "sp500_5yr", "LNT_data.csv"))
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"ticker":"LNT"`, `"rows":1259`, `"first_date":"2013-02-08"`, `"columns"`,
		`"name":"adj_close"`, `"type":"float64"`, `"nullable":false`, `"min"`, `"max"`} {
		if !strings.Contains(string(data), field) {
			t.Errorf("schema JSON lacks %s: %s", field, data)
		}
	}
	back, err := ParseSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("schema changed through JSON:\n%+v\n%+v", back, s)
	}
}

func TestParseSchemaRejectsWhatItCannotCheck(t *testing.T) {
	for name, data := range map[string]string{
		"unknown field":  `{"columns":[{"name":"open","type":"float64"}],"extra":1}`,
		"unknown column": `{"columns":[{"name":"bid","type":"float64"}]}`,
		"wrong type":     `{"columns":[{"name":"open","type":"string"}]}`,
		"no columns":     `{"rows":3}`,
		"not json":       `{`,
	} {
		if _, err := ParseSchema([]byte(data)); err == nil || !strings.HasPrefix(err.Error(), "parse schema") {
			t.Errorf("%s: want a parse schema error, got %v", name, err)
		}
	}
}
