package steps

import (
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/validate"
)

// IngestInput names an uploaded CSV and the ticker it holds.
type IngestInput struct {
	Ticker string `json:"ticker"`
	CSVKey string `json:"csv_key"`
	// Format names the columns and date format of a file the reader does
	// not recognise (zero: detect).
	Format frame.CSVFormat `json:"format,omitzero"`
}

// IngestResult references the raw bars as Arrow, versioned by content.
type IngestResult struct {
	Raw       blob.Ref `json:"raw"`
	FirstDate string   `json:"first_date"`
	LastDate  string   `json:"last_date"`
	Missing   int      `json:"missing"` // missing values in the file
	// Read says how the file was read (its source, delimiter, date format,
	// whether its rows were sorted oldest-first).
	Read frame.CSVReport `json:"read"`
}

// DownloadInput names a ticker's daily history to fetch.
type DownloadInput struct {
	Ticker string `json:"ticker"`
	Start  string `json:"start"` // YYYY-MM-DD, inclusive
	End    string `json:"end"`   // YYYY-MM-DD, inclusive
}

// DownloadResult references the downloaded CSV in the store.
type DownloadResult struct {
	CSVKey string `json:"csv_key"`
	Rows   int    `json:"rows"`
}

// SplitInput is the raw data and the chronological shares.
type SplitInput struct {
	Raw       blob.Ref       `json:"raw"`
	Fractions prep.Fractions `json:"fractions"`
	// Tail, when set, splits for a retrain instead: the newest part of the
	// new rows is the test (Fractions are not used).
	Tail *prep.TailSplit `json:"tail,omitempty"`
}

// Splits references train, validation and test, in time order.
type Splits struct {
	Train blob.Ref `json:"train"`
	Val   blob.Ref `json:"val"`
	Test  blob.Ref `json:"test"`
}

// Parts points at train, validation and test, in that order, for steps
// that treat every split alike.
func (s *Splits) Parts() [3]*blob.Ref { return [3]*blob.Ref{&s.Train, &s.Val, &s.Test} }

// ValidateInput is the raw splits and the validation thresholds.
type ValidateInput struct {
	Splits Splits          `json:"splits"`
	Config validate.Config `json:"config"`
	// FailOnCritical makes critical anomalies fail the step (the training
	// pipeline); off, they are only reported (starter validate).
	FailOnCritical bool `json:"fail_on_critical"`
}

// ValidateResult references the persisted schema and statistics, counts
// the anomalies found and lists the first MaxListedAnomalies of them (the
// critical ones first); the whole list is in the store (AnomalyList). A file
// with a finding on every row (zero volume every day, as indices have) thus
// stays a small payload, whatever its length.
type ValidateResult struct {
	Schema      blob.Ref           `json:"schema"`
	Stats       [3]blob.Ref        `json:"stats"` // train, val, test
	Anomalies   []pipeline.Anomaly `json:"anomalies"`
	Counts      map[string]int     `json:"counts"`                 // by severity, of all
	AnomalyList blob.Ref           `json:"anomaly_list,omitempty"` // JSON array of all; empty Key when none
	AnomalyURI  string             `json:"anomaly_uri,omitempty"`  // where AnomalyList is, for people
}

// MaxListedAnomalies is how many anomalies a validation result carries.
const MaxListedAnomalies = 50

// CleanInput is the raw splits and how to clean them.
type CleanInput struct {
	Splits Splits         `json:"splits"`
	Spec   prep.CleanSpec `json:"spec"`
}

// CleanResult references the cleaned splits and says what changed.
type CleanResult struct {
	Splits  Splits              `json:"splits"`
	Reports [3]prep.CleanReport `json:"reports"` // train, val, test
	Bounds  prep.Bounds         `json:"bounds"`  // accepted daily log-returns, fitted on train
}

// ScaleInput is the cleaned splits and the transform to fit.
type ScaleInput struct {
	Splits  Splits             `json:"splits"`
	Spec    prep.TransformSpec `json:"spec"`
	Horizon int                `json:"horizon"`
}

// ScaleResult references the fitted transform (scalers included).
type ScaleResult struct {
	Transform blob.Ref              `json:"transform"`
	Coverage  [3]map[string]float64 `json:"coverage"` // per split, share of each feature inside the training range
}

// WindowInput is the cleaned splits, the fitted transform and the lookback.
type WindowInput struct {
	Transform blob.Ref `json:"transform"`
	Splits    Splits   `json:"splits"`
	Lookback  int      `json:"lookback"`
}

// PlotInput is what the data plots show: the raw bars, the cleaned splits
// and the anomalies found.
type PlotInput struct {
	RunID     string             `json:"run_id"`
	Raw       blob.Ref           `json:"raw"`
	Cleaned   Splits             `json:"cleaned"`
	Anomalies []pipeline.Anomaly `json:"anomalies"`
	// AnomalyList, when set, is the whole list (Anomalies is its first few):
	// every one is marked.
	AnomalyList *blob.Ref `json:"anomaly_list,omitempty"`
}

// PlotResult lists the stored plots by name → URI.
type PlotResult struct {
	Plots map[string]string `json:"plots"`
}
