// Package notify tells people what the pipelines did: a failed, timed-out
// or cancelled run, data drift past its threshold, a promotion (or a model
// left challenger), a rejected inbox file. An Event goes out by e-mail over
// SMTP and as a JSON webhook (Slack-compatible "text" plus the event's
// fields), signed with HMAC-SHA256 when a secret is set; Verify is what a
// receiver checks the signature with.
//
// Secrets (the SMTP password, the webhook secret, a webhook URL whose path
// is its token) never appear in an error or a description: they name the
// servers with Redacted URLs.
package notify

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Event kinds.
const (
	KindFailed     = "failed"        // a pipeline failed after its step's retries
	KindTimedOut   = "timed_out"     // a pipeline failed because a step timed out
	KindCancelled  = "cancelled"     // someone cancelled a pipeline
	KindDrift      = "drift"         // a retrain's new data drifted past the threshold
	KindPromoted   = "promoted"      // a new version became champion
	KindChallenger = "challenger"    // a new version was registered but stays challenger
	KindRolledBack = "rolled_back"   // the champion was rolled back (registry, not a workflow)
	KindRejected   = "file_rejected" // an inbox file failed validation and moved to rejected/
)

// Event is one thing to tell people about. ID is stable per event (the
// workflow id, its run id, the kind and, for several events of a kind in
// one run, a detail), so a delivery retried or repeated is recognisable:
// it is the e-mail's X-FinSight-Event-Id and Message-ID and the webhook's
// X-FinSight-Event-Id header.
type Event struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Time       time.Time `json:"time"`
	Namespace  string    `json:"namespace,omitempty"`
	Workflow   string    `json:"workflow"` // workflow type: TrainingPipeline, RetrainingPipeline, ValidateData
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
	StartedAt  time.Time `json:"started_at,omitzero"` // when the run began
	Ticker     string    `json:"ticker"`

	// A failure, timeout or cancellation: where, what and how often.
	Step      string `json:"step,omitempty"`
	ErrorType string `json:"error_type,omitempty"`
	Error     string `json:"error,omitempty"`
	Attempts  int32  `json:"attempts,omitempty"` // attempts the failing step made (0: unknown)

	// A promotion decision.
	ModelVersion    int    `json:"model_version,omitempty"`
	Alias           string `json:"alias,omitempty"`
	PreviousVersion int    `json:"previous_version,omitempty"` // the champion compared with
	Forced          bool   `json:"forced,omitempty"`

	// Drift: the largest divergence and its feature, against the threshold.
	DriftJS        float64 `json:"drift_js,omitempty"`
	DriftFeature   string  `json:"drift_feature,omitempty"`
	DriftThreshold float64 `json:"drift_threshold,omitempty"`

	// A rejected file: its name and where it went.
	File    string `json:"file,omitempty"`
	MovedTo string `json:"moved_to,omitempty"`

	Reason    string `json:"reason,omitempty"`     // why: the promotion gate's, the rejection's
	ReportURL string `json:"report_url,omitempty"` // the run's report, when it has one
	UIURL     string `json:"ui_url,omitempty"`     // the run in the Temporal Web UI (the Notifier fills it)
}

// EventID is the id of the event of kind in one run of a workflow, with
// detail telling apart several events of a kind in one run ("" for none).
func EventID(workflowID, runID, kind, detail string) string {
	id := workflowID + "/" + runID + "/" + kind
	if detail != "" {
		id += "/" + detail
	}
	return id
}

// Title is the event in one line: the e-mail's subject (after "[FinSight] ").
func (e Event) Title() string {
	who := e.Ticker
	if who == "" {
		who = e.WorkflowID
	}
	var what string
	switch e.Kind {
	case KindFailed, KindTimedOut:
		verb := "failed"
		if e.Kind == KindTimedOut {
			verb = "timed out"
		}
		what = e.Workflow + " " + verb
		if e.Step != "" {
			what += " at " + e.Step
		}
		if e.ErrorType != "" {
			what += " (" + e.ErrorType + ")"
		}
	case KindCancelled:
		what = e.Workflow + " cancelled"
		if e.Step != "" {
			what += " at " + e.Step
		}
	case KindDrift:
		what = fmt.Sprintf("new data drifted past the threshold (Jensen–Shannon %.4f on %s > %g)", e.DriftJS, e.DriftFeature, e.DriftThreshold)
	case KindPromoted:
		what = fmt.Sprintf("v%d promoted to champion", e.ModelVersion)
		if e.Forced {
			what += " (forced)"
		}
	case KindChallenger:
		what = fmt.Sprintf("v%d stays %s", e.ModelVersion, orDefault(e.Alias, "challenger"))
	case KindRolledBack:
		what = fmt.Sprintf("champion rolled back to v%d", e.ModelVersion)
	case KindRejected:
		what = "inbox file " + e.File + " rejected"
	default:
		what = e.Workflow + " " + e.Kind
	}
	return oneLine(who + ": " + what)
}

// Text is the event for people: its title, then one "label: value" line
// per field it has. The e-mail's body and the webhook's "text" are built
// from it.
func (e Event) Text() string {
	var b strings.Builder
	b.WriteString(e.Title())
	b.WriteString("\n\n")
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-12s %s\n", label+":", value)
		}
	}
	line("Ticker", e.Ticker)
	line("Workflow", strings.TrimSpace(e.Workflow+" "+e.WorkflowID))
	line("Run", e.RunID)
	line("Step", e.Step)
	line("Error type", e.ErrorType)
	line("Error", e.Error)
	if e.Attempts > 0 {
		line("Attempts", fmt.Sprint(e.Attempts))
	}
	if e.ModelVersion > 0 {
		line("Version", fmt.Sprintf("v%d", e.ModelVersion))
	}
	line("Alias", e.Alias)
	if e.PreviousVersion > 0 {
		line("Compared", fmt.Sprintf("with champion v%d", e.PreviousVersion))
	}
	line("File", e.File)
	line("Moved to", e.MovedTo)
	line("Reason", e.Reason)
	line("Report", e.ReportURL)
	line("Web UI", e.UIURL)
	line("Event", e.ID)
	if !e.Time.IsZero() {
		line("Time", e.Time.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// WorkflowLink is the run's page in the Temporal Web UI at ui (its base
// URL), or "" without one.
func WorkflowLink(ui, namespace, workflowID, runID string) string {
	if ui == "" || workflowID == "" {
		return ""
	}
	link := fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(ui, "/"), url.PathEscape(orDefault(namespace, "default")), url.PathEscape(workflowID))
	if runID != "" {
		link += "/" + url.PathEscape(runID) + "/history"
	}
	return link
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// oneLine folds line breaks (a header must not contain one) into spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}
