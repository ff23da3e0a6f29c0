package frame_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/finsight/finsight/internal/frame"
)

func TestForecastsRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	day := time.Date(2022, 3, 1, 0, 0, 0, 0, time.UTC)
	f := &frame.Forecasts{Date: []time.Time{day, day.AddDate(0, 0, 1)}, Actual: []float64{10, 11}, Last: []float64{9, 10},
		Models: []string{"lstm", "naive", "drift"}, Pred: [][]float64{{9.5, 10.5}, {9, 10}, {9.1, 10.1}}}
	var buf bytes.Buffer
	if err := frame.WriteForecasts(&buf, f, mem); err != nil {
		t.Fatal(err)
	}
	got, err := frame.ReadForecasts(&buf, mem)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Models, f.Models) || !got.Date[1].Equal(f.Date[1]) || !slices.Equal(got.Last, f.Last) ||
		!slices.Equal(got.Column("drift"), f.Pred[2]) || got.Column("ewma") != nil {
		t.Fatalf("read back %+v", got)
	}
}

func TestForecastsRefuseBadColumns(t *testing.T) {
	day := time.Date(2022, 3, 1, 0, 0, 0, 0, time.UTC)
	for name, f := range map[string]*frame.Forecasts{
		"reserved": {Date: []time.Time{day}, Actual: []float64{1}, Last: []float64{1}, Models: []string{"actual"}, Pred: [][]float64{{1}}},
		"repeated": {Date: []time.Time{day}, Actual: []float64{1}, Last: []float64{1}, Models: []string{"m", "m"}, Pred: [][]float64{{1}, {1}}},
		"short":    {Date: []time.Time{day}, Actual: []float64{1}, Last: []float64{1}, Models: []string{"m"}, Pred: [][]float64{{}}},
	} {
		if err := frame.WriteForecasts(&bytes.Buffer{}, f, memory.DefaultAllocator); err == nil || !strings.Contains(err.Error(), "write forecasts") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
