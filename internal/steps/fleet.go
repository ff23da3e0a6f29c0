package steps

import (
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/validate"
)

// The fleet's steps.
const (
	// ListFleetFiles lists the price files of a fleet under a store prefix.
	ListFleetFiles = "ListFleetFiles"
	// PrepareTickers runs the data chain (ingest → split → validate → clean
	// → scale → window) over a group of tickers in one activity: steps of
	// milliseconds must not cost a round trip through the server each.
	PrepareTickers = "PrepareTickers"
	// FleetReport writes a fleet's report (JSON and CSV) to the store.
	FleetReport = "FleetReport"
)

// ListFleetInput is a store prefix of CSV files.
type ListFleetInput struct {
	Prefix string `json:"prefix"`
}

// ListFleetResult is a fleet item per file named after a ticker, and the
// files that are not (with why).
type ListFleetResult struct {
	Items   []pipeline.FleetItem    `json:"items"`
	Skipped []pipeline.FleetOutcome `json:"skipped,omitempty"`
}

// PrepareSpec is how a prepare fleet prepares every ticker (a training
// input's data settings).
type PrepareSpec struct {
	Fractions prep.Fractions     `json:"fractions"`
	Validate  validate.Config    `json:"validate"`
	Clean     prep.CleanSpec     `json:"clean"`
	Transform prep.TransformSpec `json:"transform"`
	Lookback  int                `json:"lookback"`
	Horizon   int                `json:"horizon"`
}

// PrepareSpecOf is the data settings of a training input.
func PrepareSpecOf(in pipeline.TrainingInput) PrepareSpec {
	in = in.WithDefaults()
	return PrepareSpec{Fractions: prep.Fractions{Train: in.Train, Val: in.Val, Test: in.Test}, Validate: in.Validate,
		Clean: in.Clean, Transform: in.Transform, Lookback: in.Lookback, Horizon: in.Horizon}
}

// PrepareInput is a group of tickers and how to prepare them.
type PrepareInput struct {
	Items []pipeline.FleetItem `json:"items"`
	Spec  PrepareSpec          `json:"spec"`
}

// PrepareResult is each ticker's outcome, in the items' order. A ticker
// whose data the chain refuses is a failed outcome, not a failed step.
type PrepareResult struct {
	Outcomes []pipeline.FleetOutcome `json:"outcomes"`
}

// FleetReportInput is a finished fleet.
type FleetReportInput struct {
	Result pipeline.FleetResult `json:"result"`
}

// FleetReportResult says where the report went.
type FleetReportResult struct {
	Report string `json:"report"` // URI of fleets/<id>/fleet.json
	CSV    string `json:"csv"`    // URI of fleets/<id>/report.csv
}
