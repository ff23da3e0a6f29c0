package steps

import (
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/runs"
)

// SaveRunResult is empty: saving either works or fails.
type SaveRunResult struct{}

// ReportInput names the run to report on.
type ReportInput struct {
	RunID       string   `json:"run_id"`
	Predictions blob.Ref `json:"predictions"`
	// Final, when set, is how the run ended: the report renders the saved
	// record with it, so the report exists before the saved record says the
	// run is over. (Only the outcome travels, not the record, whose anomaly
	// list can be large.)
	Final *runs.Final `json:"final,omitempty"`
}

// ReportResult lists the report's files by name → URI.
type ReportResult struct {
	Artifacts map[string]string `json:"artifacts"`
}
