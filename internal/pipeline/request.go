package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/prep"
)

// Requests as people make them: `starter train` and `starter retrain` bind
// their flags to TrainRequest and RetrainRequest, and the API's POST /train
// and POST /retrain read them as JSON. Each JSON name is the flag's name
// with '_' for '-' (--clip-norm is clip_norm), so one request spelled
// either way builds the same workflow input, and the same training
// workflow id (TrainingWorkflowID).

// FieldError is a request field's bad value. Msg may name fields as
// {field} (their JSON names); Text writes them as a caller names them (the
// starter: --flag).
type FieldError struct {
	Field string // JSON name; "file" is the uploaded CSV (the starter's --csv)
	Msg   string
}

func (e *FieldError) Error() string {
	return e.Field + ": " + e.Text(func(f string) string { return f })
}

// Text is the message with each {field} written as name(field).
func (e *FieldError) Text(name func(field string) string) string {
	var b strings.Builder
	rest := e.Msg
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		n := strings.IndexByte(rest[open:], '}')
		if n < 0 {
			break
		}
		b.WriteString(rest[:open])
		b.WriteString(name(rest[open+1 : open+n]))
		rest = rest[open+n+1:]
	}
	b.WriteString(rest)
	return b.String()
}

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Data sources of a training or validation request.
const (
	SourceCSV   = "csv"   // a CSV: uploaded, or already in the store (store_csv)
	SourceYahoo = "yahoo" // downloaded from Yahoo Finance (start, end)
)

// DataRequest says where a request's prices come from and how to read a
// CSV that the reader does not recognise by itself.
type DataRequest struct {
	Source     string `json:"source"`      // csv (default) or yahoo
	StoreCSV   string `json:"store_csv"`   // key of a CSV already in the store
	Start      string `json:"start"`       // first day of a download, YYYY-MM-DD
	End        string `json:"end"`         // last day of a download ("" = today)
	Columns    string `json:"columns"`     // e.g. date=Day,open=Opening
	DateFormat string `json:"date_format"` // e.g. DD/MM/YYYY
	Decimal    string `json:"decimal"`     // . or ,
}

// CSVFormat checks and returns the format fields.
func (d DataRequest) CSVFormat() (frame.CSVFormat, error) {
	return csvFormat(d.Columns, d.DateFormat, d.Decimal)
}

func csvFormat(columns, dateFormat, decimal string) (frame.CSVFormat, error) {
	cols, err := frame.ParseColumns(columns)
	if err != nil {
		return frame.CSVFormat{}, fieldErr("columns", "%v", err)
	}
	f := frame.CSVFormat{Columns: cols, DateFormat: strings.TrimSpace(dateFormat), Decimal: strings.TrimSpace(decimal)}
	for field, part := range map[string]frame.CSVFormat{
		"columns":     {Columns: f.Columns},
		"date_format": {DateFormat: f.DateFormat},
		"decimal":     {Decimal: f.Decimal},
	} {
		if err := part.Validate(); err != nil {
			return frame.CSVFormat{}, fieldErr(field, "%v", err)
		}
	}
	return f, nil
}

// Check checks the data fields; file says whether a CSV comes with the
// request (the starter's --csv, an API upload). It does no I/O.
func (d DataRequest) Check(file bool) error {
	f, err := d.CSVFormat()
	if err != nil {
		return err
	}
	switch d.Source {
	case SourceCSV, "":
		switch {
		case file && d.StoreCSV != "":
			return fieldErr("store_csv", "give {file} or {store_csv}, not both")
		case !file && d.StoreCSV == "":
			return fieldErr("file", "a CSV is required: give {file}, or {store_csv} KEY of a CSV in the store, or {source} yahoo with {start}")
		case d.Start != "" || d.End != "":
			return fieldErr("start", "{start} and {end} are the range of a download: they go with {source} yahoo")
		}
		return nil
	case SourceYahoo:
		switch {
		case file:
			return fieldErr("file", "{source} yahoo downloads the prices: no CSV goes with it")
		case d.StoreCSV != "":
			return fieldErr("store_csv", "{source} yahoo downloads the prices: {store_csv} goes with {source} csv")
		case !f.IsZero():
			return fieldErr("columns", "{columns}, {date_format} and {decimal} describe a CSV: they do not go with {source} yahoo")
		}
		_, err := d.Download(time.Now())
		return err
	}
	return fieldErr("source", "unknown source %q: want csv or yahoo", d.Source)
}

// Download is the Yahoo range of a yahoo request, End defaulting to
// today (UTC) at now.
func (d DataRequest) Download(now time.Time) (*DownloadSpec, error) {
	start, end := strings.TrimSpace(d.Start), strings.TrimSpace(d.End)
	if end == "" {
		end = now.UTC().Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, start); err != nil {
		return nil, fieldErr("start", "{start} must be YYYY-MM-DD, got %q", start)
	}
	if _, err := time.Parse(time.DateOnly, end); err != nil {
		return nil, fieldErr("end", "{end} must be YYYY-MM-DD, got %q", end)
	}
	if start >= end {
		return nil, fieldErr("start", "{start} %s must be before {end} %s", start, end)
	}
	return &DownloadSpec{Start: start, End: end}, nil
}

// TrainRequest is a training request: `starter train`'s flags, POST
// /train's JSON.
type TrainRequest struct {
	Ticker string `json:"ticker"`
	DataRequest

	Epochs   int     `json:"epochs"`
	Units    int     `json:"units"`
	Layers   int     `json:"layers"`
	Dropout  float64 `json:"dropout"`
	LR       float64 `json:"lr"`
	Batch    int     `json:"batch"`
	Seed     int64   `json:"seed"`
	Lookback int     `json:"lookback"`
	Horizon  int     `json:"horizon"`
	ClipNorm float64 `json:"clip_norm"`
	LRDecay  float64 `json:"lr_decay"`
	Patience int     `json:"patience"`

	Missing       string  `json:"missing"`
	Outliers      string  `json:"outliers"`
	OutlierK      float64 `json:"outlier_k"`
	OutlierAction string  `json:"outlier_action"`
	Target        string  `json:"target"`
	Scaler        string  `json:"scaler"`
	Features      string  `json:"features"` // comma-separated

	Trials      int    `json:"trials"`
	Concurrency int    `json:"concurrency"`
	Sampler     string `json:"sampler"`
	TrialEpochs int    `json:"trial_epochs"`

	Margin       float64 `json:"margin"`
	ForcePromote bool    `json:"force_promote"`
	RunDevice    string  `json:"run_device"` // auto or cuda
	// Levels are the prediction-interval levels, comma-separated
	// (0.8,0.95 = 80% and 95% intervals).
	Levels string `json:"levels"`
	// Gate and Alpha: the promotion gate (split or backtest) and the
	// backtest gate's significance level (0 = 0.05).
	Gate  string  `json:"gate"`
	Alpha float64 `json:"alpha"`
	// NewRun trains again even if the same request ran: the workflow id
	// gets a time suffix.
	NewRun bool `json:"new_run"`
}

// DefaultTrainRequest is a request with every default filled in (the
// starter's flag defaults); a JSON body decoded into it changes only the
// fields it names.
func DefaultTrainRequest() TrainRequest {
	d, dc, dt := DefaultModelParams(), prep.DefaultCleanSpec(), prep.DefaultTransformSpec()
	return TrainRequest{
		DataRequest: DataRequest{Source: SourceCSV},
		Epochs:      d.Epochs, Units: d.Units, Layers: d.Layers, Dropout: d.Dropout, LR: d.LearningRate, Batch: d.BatchSize,
		Seed: d.Seed, Lookback: 50, Horizon: 1, ClipNorm: d.ClipNorm,
		Missing: dc.Missing, Outliers: dc.Outliers.Method, OutlierK: dc.Outliers.K, OutlierAction: dc.Outliers.Strategy,
		Target: dt.Target, Scaler: dt.Scaler, Features: strings.Join(dt.Features, ","),
		Concurrency: 2, Sampler: "tpe", TrialEpochs: 3, RunDevice: "auto", Levels: formatLevels(conformal.DefaultLevels()),
		Gate: GateSplit,
	}
}

// Check checks every field that needs no I/O (file: a CSV comes with the
// request). Errors are *FieldError.
func (r TrainRequest) Check(file bool) error {
	if _, err := NormalizeTicker(r.Ticker); err != nil {
		return fieldErr("ticker", "%v", err)
	}
	if err := r.DataRequest.Check(file); err != nil {
		return err
	}
	for _, n := range []struct {
		field string
		v     int
	}{{"epochs", r.Epochs}, {"units", r.Units}, {"layers", r.Layers}, {"batch", r.Batch}, {"lookback", r.Lookback},
		{"horizon", r.Horizon}, {"patience", r.Patience}, {"trials", r.Trials}, {"concurrency", r.Concurrency}, {"trial_epochs", r.TrialEpochs}} {
		if n.v < 0 {
			return fieldErr(n.field, "must not be negative, got %d", n.v)
		}
	}
	for _, n := range []struct {
		field string
		v     float64
	}{{"lr", r.LR}, {"clip_norm", r.ClipNorm}, {"lr_decay", r.LRDecay}, {"margin", r.Margin}} {
		if !(n.v >= 0) {
			return fieldErr(n.field, "must not be negative, got %g", n.v)
		}
	}
	if !(r.Dropout >= 0 && r.Dropout < 1) {
		return fieldErr("dropout", "want 0 ≤ dropout < 1, got %g", r.Dropout)
	}
	in := r.input().WithDefaults() // as the workflow gets it: "" is the default
	if err := (prep.CleanSpec{Missing: in.Clean.Missing, Outliers: prep.OutlierSpec{Method: prep.OutlierNone}}).Validate(); err != nil {
		return fieldErr("missing", "%v", err)
	}
	o := in.Clean.Outliers
	for _, p := range []struct {
		field string
		spec  prep.OutlierSpec
	}{
		{"outliers", prep.OutlierSpec{Method: o.Method, K: 1, Strategy: prep.OutlierFlag}},
		{"outlier_k", prep.OutlierSpec{Method: prep.OutlierZScore, K: o.K, Strategy: prep.OutlierFlag}},
		{"outlier_action", prep.OutlierSpec{Method: prep.OutlierZScore, K: 1, Strategy: o.Strategy}},
	} {
		if o.Method == prep.OutlierNone && p.field != "outliers" {
			break
		}
		if err := p.spec.Validate(); err != nil {
			return fieldErr(p.field, "%v", err)
		}
	}
	tr := in.Transform
	for _, p := range []struct {
		field string
		spec  prep.TransformSpec
	}{
		{"target", prep.TransformSpec{Target: tr.Target, Scaler: prep.ScalerStandard, Features: []string{"open"}}},
		{"scaler", prep.TransformSpec{Target: prep.TargetLogReturn, Scaler: tr.Scaler, Features: []string{"open"}}},
		{"features", prep.TransformSpec{Target: prep.TargetLogReturn, Scaler: prep.ScalerStandard, Features: tr.Features}},
	} {
		if err := p.spec.Validate(); err != nil {
			return fieldErr(p.field, "%v", err)
		}
	}
	if r.Sampler != "tpe" && r.Sampler != "random" {
		return fieldErr("sampler", "search sampler %q: want tpe or random", r.Sampler)
	}
	if r.RunDevice != "auto" && r.RunDevice != "cuda" {
		return fieldErr("run_device", "%q: want auto or cuda", r.RunDevice)
	}
	if _, err := ParseLevels(r.Levels); err != nil {
		return fieldErr("levels", "%v", err)
	}
	if err := CheckGate(strings.TrimSpace(r.Gate), 0); err != nil {
		return fieldErr("gate", "%v", err)
	}
	if err := CheckGate(strings.TrimSpace(r.Gate), r.Alpha); err != nil {
		return fieldErr("alpha", "%v", err)
	}
	return nil
}

// ParseLevels reads comma-separated interval levels ("0.8,0.95"); ""
// is the defaults. The defaults come back nil, as TrainingInput keeps
// them (see IntervalLevels).
func ParseLevels(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var levels []float64
	for _, part := range strings.Split(s, ",") {
		l, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("interval level %q is not a number (want e.g. 0.8,0.95)", strings.TrimSpace(part))
		}
		levels = append(levels, l)
	}
	if err := CheckIntervalLevels(levels); err != nil {
		return nil, err
	}
	if slices.Equal(levels, conformal.DefaultLevels()) {
		return nil, nil
	}
	return levels, nil
}

func formatLevels(levels []float64) string {
	parts := make([]string, len(levels))
	for i, l := range levels {
		parts[i] = strconv.FormatFloat(l, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// TrainingData is where a checked request's prices are: a CSV in the store
// (CSVKey) or a download (Download); Label says where from, for people.
type TrainingData struct {
	CSVKey   string
	Format   frame.CSVFormat
	Download *DownloadSpec
	Label    string
}

// Input is the pipeline's input for the request on data, defaults filled
// in. Call Check first.
func (r TrainRequest) Input(data TrainingData) TrainingInput {
	in := r.input()
	in.CSVKey, in.Format, in.Download, in.Source = data.CSVKey, data.Format, data.Download, data.Label
	return in.WithDefaults()
}

// input is the request's TrainingInput without its data.
func (r TrainRequest) input() TrainingInput {
	t, _ := NormalizeTicker(r.Ticker)
	var features []string
	for _, f := range strings.Split(r.Features, ",") {
		features = append(features, strings.TrimSpace(f))
	}
	levels, _ := ParseLevels(r.Levels) // checked by Check
	gate := strings.TrimSpace(r.Gate)
	if gate == GateSplit {
		gate = "" // the default: the same workflow id as a request without it
	}
	return TrainingInput{
		Ticker: t, Lookback: r.Lookback, Horizon: r.Horizon,
		Model: ModelParams{Layers: r.Layers, Units: r.Units, Dropout: r.Dropout, Epochs: r.Epochs,
			BatchSize: r.Batch, LearningRate: r.LR, Seed: r.Seed, ClipNorm: r.ClipNorm, LRDecay: r.LRDecay, Patience: r.Patience},
		Clean:     prep.CleanSpec{Missing: r.Missing, Outliers: prep.OutlierSpec{Method: r.Outliers, K: r.OutlierK, Strategy: r.OutlierAction}},
		Transform: prep.TransformSpec{Target: r.Target, Scaler: r.Scaler, Features: features},
		Tune:      TuneSpec{Trials: r.Trials, Concurrency: r.Concurrency, Sampler: r.Sampler, Epochs: r.TrialEpochs, Seed: r.Seed},
		Device:    r.RunDevice, PromotionMargin: r.Margin, ForcePromote: r.ForcePromote, IntervalLevels: levels,
		Gate: gate, Alpha: r.Alpha,
	}
}

// Workflow ids of TrainingPipeline runs are derived from the request, so
// the same request (from the starter or over HTTP) finds the first run
// instead of training twice:
//
//	train-<TICKER>-<data8>-<params8>
//
// data8 is the first 8 hex digits of the CSV's SHA-256 ("yahoo" for a
// download, whose range is part of the parameters); params8 is the first 8
// hex digits of the SHA-256 of the TrainingInput as JSON, defaults filled
// in, without the fields that do not change what is trained (the Source
// label and SearchAttributes). NewRun appends a time-based suffix to force
// a fresh run.

// TrainingParamsHash is the first 8 hex digits of the SHA-256 of in's
// canonical JSON (encoding/json writes struct fields in declaration
// order), less the fields that do not change the result.
func TrainingParamsHash(in TrainingInput) (string, error) {
	in.Source = ""
	in.SearchAttributes = false
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("hash training input: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:8], nil
}

// TrainingWorkflowID is the id of the pipeline that trains in on the data
// named by dataPart (DataIDPart); newRun adds a suffix (now in
// milliseconds) that makes it a fresh id.
func TrainingWorkflowID(in TrainingInput, dataPart string, newRun bool, now time.Time) (string, error) {
	params, err := TrainingParamsHash(in)
	if err != nil {
		return "", err
	}
	id := fmt.Sprintf("train-%s-%s-%s", in.Ticker, dataPart, params)
	if newRun {
		id += "-" + strconv.FormatInt(now.UnixMilli(), 10)
	}
	return id, nil
}

// DataIDPart is the data part of a training workflow id: the first 8 hex
// digits of the CSV's SHA-256, or "yahoo" for a download (sha256 "").
func DataIDPart(sha256 string) string {
	if len(sha256) < 8 {
		return SourceYahoo
	}
	return sha256[:8]
}

// RetrainRequest is a retraining request: `starter retrain`'s flags, POST
// /retrain's JSON (the CSV comes separately).
type RetrainRequest struct {
	Ticker       string  `json:"ticker"`
	Columns      string  `json:"columns"`
	DateFormat   string  `json:"date_format"`
	Decimal      string  `json:"decimal"`
	Mode         string  `json:"mode"` // finetune, full or auto ("" = finetune)
	Base         int     `json:"base"` // the version to retrain from (0: the champion, else the latest)
	Epochs       int     `json:"epochs"`
	LR           float64 `json:"lr"`
	TestFraction float64 `json:"test_fraction"`
	ForcePromote bool    `json:"force_promote"`
	RunDevice    string  `json:"run_device"` // auto or cuda
}

// DefaultRetrainRequest is a request with the defaults filled in: zero
// options (the workflow's defaults), run device auto.
func DefaultRetrainRequest() RetrainRequest { return RetrainRequest{RunDevice: "auto"} }

// CheckedRetrain is a checked RetrainRequest.
type CheckedRetrain struct {
	Ticker  string
	Format  frame.CSVFormat
	Options RetrainOptions
	Device  string
}

// Check checks the request (no I/O). Errors are *FieldError.
func (r RetrainRequest) Check() (CheckedRetrain, error) {
	t, err := NormalizeTicker(r.Ticker)
	if err != nil {
		return CheckedRetrain{}, fieldErr("ticker", "%v", err)
	}
	f, err := csvFormat(r.Columns, r.DateFormat, r.Decimal)
	if err != nil {
		return CheckedRetrain{}, err
	}
	o := RetrainOptions{BaseVersion: r.Base, Epochs: r.Epochs, LearningRate: r.LR, TestFraction: r.TestFraction, ForcePromote: r.ForcePromote}
	if strings.TrimSpace(r.Mode) != "" {
		if o.Mode, err = ParseMode(r.Mode); err != nil {
			return CheckedRetrain{}, fieldErr("mode", "%v", err)
		}
	}
	for _, n := range []struct {
		field string
		bad   bool
	}{{"base", r.Base < 0}, {"epochs", r.Epochs < 0}, {"lr", !(r.LR >= 0)}, {"test_fraction", !(r.TestFraction >= 0)}} {
		if n.bad {
			return CheckedRetrain{}, fieldErr(n.field, "must not be negative")
		}
	}
	if err := o.WithDefaults().Validate(); err != nil {
		return CheckedRetrain{}, fieldErr("test_fraction", "retrain options: %v", err)
	}
	if r.RunDevice != "auto" && r.RunDevice != "cuda" {
		return CheckedRetrain{}, fieldErr("run_device", "%q: want auto or cuda", r.RunDevice)
	}
	return CheckedRetrain{Ticker: t, Format: f, Options: o, Device: r.RunDevice}, nil
}
