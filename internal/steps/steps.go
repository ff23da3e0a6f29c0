// Package steps is the contract between the pipelines and their steps:
// each activity's registered name, its input and result types, and the
// application error types a step fails with.
//
// Package workflows calls the steps by these names and package activities
// registers its implementations under them, so workflow code never links
// the steps' dependencies (LibTorch, the Yahoo client, ...) and builds
// without cgo. The names are in every recorded history: renaming one
// breaks the replay of executions already running.
package steps

// The activities' registered names.
const (
	// Data: upload or download, then split, check and prepare.
	Ingest   = "Ingest"
	Download = "Download"
	Split    = "Split"
	Validate = "Validate"
	Clean    = "Clean"
	Scale    = "Scale"
	Window   = "Window"
	Plot     = "Plot"

	// Model: train (or try hyperparameters), score, register, promote.
	Train      = "Train"
	TrainTrial = "TrainTrial"
	Evaluate   = "Evaluate"
	Compare    = "Compare"
	Register   = "Register"
	Promote    = "Promote"

	// Retraining: the base model, new files, the inbox and the hand-off to
	// a ticker's workflow.
	ResolveBase  = "ResolveBase"
	CheckNewData = "CheckNewData"
	Merge        = "Merge"
	RejectFiles  = "RejectFiles"
	HandOff      = "HandOff"
	ScanInbox    = "ScanInbox"

	// The run record and its report.
	SaveRun = "SaveRun"
	Report  = "Report"

	// Notify tells people about an event of a run (e-mail, webhook).
	Notify = "Notify"
)

// Names lists every activity name above.
func Names() []string {
	return []string{
		Ingest, Download, Split, Validate, Clean, Scale, Window, Plot,
		Train, TrainTrial, Evaluate, Compare, Register, Promote,
		ResolveBase, CheckNewData, Merge, RejectFiles, HandOff, ScanInbox,
		SaveRun, Report,
		Notify,
		ListFleetFiles, PrepareTickers, FleetReport,
		BacktestPlan, BacktestFoldData, BacktestScore, BacktestSummarize, BacktestReport,
	}
}
