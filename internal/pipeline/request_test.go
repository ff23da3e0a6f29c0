package pipeline_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/pipeline"
)

func TestFieldErrorNamesFieldsAsTheCallerDoes(t *testing.T) {
	e := &pipeline.FieldError{Field: "store_csv", Msg: "give {file} or {store_csv}, not both"}
	if got := e.Error(); got != "store_csv: give file or store_csv, not both" {
		t.Errorf("Error() = %q", got)
	}
	flag := func(f string) string { return "--" + strings.ReplaceAll(f, "_", "-") }
	if got := e.Text(flag); got != "give --file or --store-csv, not both" {
		t.Errorf("Text(flag) = %q", got)
	}
	if got := (&pipeline.FieldError{Field: "x", Msg: "a { b"}).Text(flag); got != "a { b" {
		t.Errorf("unbalanced brace: %q", got)
	}
}

// Each bad value is refused naming its own field, before any I/O.
func TestTrainRequestCheckNamesTheField(t *testing.T) {
	ok := pipeline.DefaultTrainRequest()
	ok.Ticker, ok.StoreCSV = "NFLX", "uploads/x.csv"
	if err := ok.Check(false); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	for field, mutate := range map[string]func(*pipeline.TrainRequest){
		"ticker":         func(r *pipeline.TrainRequest) { r.Ticker = "a/b" },
		"file":           func(r *pipeline.TrainRequest) { r.StoreCSV = "" },
		"source":         func(r *pipeline.TrainRequest) { r.Source = "ftp" },
		"start":          func(r *pipeline.TrainRequest) { r.Start = "2020-01-01" },
		"epochs":         func(r *pipeline.TrainRequest) { r.Epochs = -1 },
		"lr":             func(r *pipeline.TrainRequest) { r.LR = -0.1 },
		"dropout":        func(r *pipeline.TrainRequest) { r.Dropout = 1 },
		"missing":        func(r *pipeline.TrainRequest) { r.Missing = "guess" },
		"outliers":       func(r *pipeline.TrainRequest) { r.Outliers = "mad" },
		"outlier_k":      func(r *pipeline.TrainRequest) { r.OutlierK = -1 },
		"outlier_action": func(r *pipeline.TrainRequest) { r.OutlierAction = "keep" },
		"target":         func(r *pipeline.TrainRequest) { r.Target = "close" },
		"scaler":         func(r *pipeline.TrainRequest) { r.Scaler = "robust" },
		"features":       func(r *pipeline.TrainRequest) { r.Features = "open,open" },
		"sampler":        func(r *pipeline.TrainRequest) { r.Sampler = "grid" },
		"run_device":     func(r *pipeline.TrainRequest) { r.RunDevice = "tpu" },
		"columns":        func(r *pipeline.TrainRequest) { r.Columns = "when=Day" },
		"date_format":    func(r *pipeline.TrainRequest) { r.DateFormat = "QQ" },
		"decimal":        func(r *pipeline.TrainRequest) { r.Decimal = ";" },
	} {
		r := ok
		mutate(&r)
		var fe *pipeline.FieldError
		if err := r.Check(false); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: %v, want a field error of %s", field, err, field)
		}
	}
	// With outlier detection off, its threshold and action do not matter.
	r := ok
	r.Outliers, r.OutlierK, r.OutlierAction = "none", 0, ""
	if err := r.Check(false); err != nil {
		t.Errorf("outliers none: %v", err)
	}
	y := pipeline.DefaultTrainRequest()
	y.Ticker, y.Source, y.Start = "NFLX", "yahoo", "2020-01-01"
	if err := y.Check(false); err != nil {
		t.Errorf("a download to today: %v", err)
	}
	if dl, _ := y.Download(time.Date(2021, 3, 4, 23, 0, 0, 0, time.UTC)); dl == nil || dl.End != "2021-03-04" {
		t.Errorf("download %+v, want it to end today", dl)
	}
	if err := y.Check(true); err == nil {
		t.Error("a download with a file was accepted")
	}
}
