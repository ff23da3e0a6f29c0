package steps

import (
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/validate"
)

// ResolveBaseInput names the ticker to retrain.
type ResolveBaseInput struct {
	Ticker  string `json:"ticker"`
	Version int    `json:"version,omitempty"` // this version (0: the champion, else the latest)
}

// NewFile is one ingested new file of a retrain.
type NewFile struct {
	Name   string   `json:"name"`
	SHA256 string   `json:"sha256"`
	Raw    blob.Ref `json:"raw"`
	Read   string   `json:"read,omitempty"` // how the file was read (frame.CSVReport.Summary)
}

// CheckNewDataInput is the base model and the new files to check against it.
type CheckNewDataInput struct {
	Base           pipeline.BaseModel `json:"base"`
	Files          []NewFile          `json:"files"`
	Config         validate.Config    `json:"config"`
	DriftThreshold float64            `json:"drift_threshold"`
}

// CheckNewDataResult says which files may be merged (in date order) and
// how far the accepted new days drift from the base's training data.
type CheckNewDataResult struct {
	Files    []pipeline.FileOutcome `json:"files"`    // in date order
	Accepted []blob.Ref             `json:"accepted"` // raw refs, in date order
	Drift    pipeline.Drift         `json:"drift"`
}

// MergeInput is the base's raw data and the accepted new files, in date
// order.
type MergeInput struct {
	Ticker string     `json:"ticker"`
	Base   blob.Ref   `json:"base"`
	Files  []blob.Ref `json:"files"`
}

// MergeResult is the new raw version and what it holds.
type MergeResult struct {
	Raw     blob.Ref   `json:"raw"`
	Parents []blob.Ref `json:"parents"`  // the base's raw, then each file's
	NewFrom string     `json:"new_from"` // the first day the base did not have
	NewRows int        `json:"new_rows"`
}

// RejectInput lists inbox files a retrain rejected.
type RejectInput struct {
	Files []pipeline.NewData     `json:"files"`
	Why   []pipeline.FileOutcome `json:"why"` // matched by SHA256
}

// RejectResult lists where each rejected file went.
type RejectResult struct {
	Moved map[string]string `json:"moved"` // sha256 → rejected/ key
}

// HandOffInput is new data for a ticker's workflow.
type HandOffInput struct {
	Ticker           string           `json:"ticker"`
	Data             pipeline.NewData `json:"data"`
	Device           string           `json:"device,omitempty"`
	SearchAttributes bool             `json:"search_attributes"`
}

// HandOffResult is the ticker workflow's run that got the data.
type HandOffResult struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}
