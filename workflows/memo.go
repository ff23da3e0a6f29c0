package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
)

// The Web UI. Every workflow sets a memo that says what the run is about
// (ticker, mode, data, parameters; the data's version once ingested), so
// the Web UI's list and detail pages show it without opening the input.
// ValidateData, TickerRetrainer and RefreshTicker also set the Ticker and
// Stage search attributes (when the server has them) the way the tracked
// pipelines do, Stage following the run to its end ("completed",
// "failed", "cancelled").

// webUIChange gates the memo and those search attributes: executions begun
// before them replay their recorded histories without these commands.
const webUIChange = "web-ui-memo"

// Memo keys.
const (
	memoTicker      = "ticker"
	memoMode        = "mode"
	memoData        = "data"
	memoDataVersion = "data_version" // the raw data the run used: its content hash and rows
	memoParams      = "params"
	memoBase        = "base" // a retrain's base model
)

// webUI sets one run's memo and, when index, its search attributes. A nil
// *webUI, or one of an execution begun before webUIChange, does nothing.
type webUI struct {
	ctx   workflow.Context
	on    bool
	index bool   // set Ticker and Stage
	stage string // the Stage set last
}

// startWebUI records the change's version, sets the memo (with the ticker,
// when there is one) and, when index, the Ticker search attribute. The
// tracked pipelines pass index false: their tracker sets the attributes.
func startWebUI(ctx workflow.Context, ticker string, index bool, memo map[string]any) *webUI {
	u := &webUI{ctx: ctx, index: index}
	u.on = workflow.GetVersion(ctx, webUIChange, workflow.DefaultVersion, 1) >= 1
	if ticker != "" {
		memo[memoTicker] = ticker
	}
	u.memo(memo)
	if ticker != "" {
		u.upsert(attrTicker.ValueSet(ticker))
	}
	return u
}

// memo adds (or replaces) memo fields. A failure is logged: the memo helps
// people, the run does not depend on it.
func (u *webUI) memo(fields map[string]any) {
	if u == nil || !u.on || len(fields) == 0 {
		return
	}
	if err := workflow.UpsertMemo(u.ctx, fields); err != nil {
		workflow.GetLogger(u.ctx).Warn("could not set the memo", "err", err)
	}
}

// setStage sets the Stage search attribute when it changes.
func (u *webUI) setStage(stage string) {
	if u == nil || stage == u.stage {
		return
	}
	u.stage = stage
	u.upsert(attrStage.ValueSet(stage))
}

// finish sets Stage to how the run ended, as the tracker does.
func (u *webUI) finish(err error) {
	switch {
	case err == nil:
		u.setStage("completed")
	case temporal.IsCanceledError(err):
		u.setStage("cancelled")
	default:
		u.setStage("failed")
	}
}

// upsert sets search attributes when this run indexes them; a failure (an
// attribute the server does not know) is logged.
func (u *webUI) upsert(attrs ...temporal.SearchAttributeUpdate) {
	if u == nil || !u.on || !u.index {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(u.ctx, attrs...); err != nil {
		workflow.GetLogger(u.ctx).Warn("could not set search attributes", "err", err)
	}
}

// dataLabel names a run's data for people: a download's range, or the
// upload (its name when known, and the first 12 digits of its hash).
func dataLabel(source, csvKey string, dl *pipeline.DownloadSpec) string {
	if dl != nil {
		return "yahoo " + dl.Start + ".." + dl.End
	}
	key := csvKey
	if sha, ok := strings.CutPrefix(csvKey, "uploads/"); ok {
		key = "upload " + shortHash(strings.TrimSuffix(sha, ".csv"))
	}
	if source != "" && source != csvKey {
		return source + " (" + key + ")"
	}
	return key
}

// dataVersion names a version of raw data: its content hash and rows.
func dataVersion(ref blob.Ref) string {
	return fmt.Sprintf("%s (%d rows)", shortHash(ref.SHA256), ref.Rows)
}

// shortHash is the first 12 digits of a content hash.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// trainingMemo is a TrainingPipeline's memo.
func trainingMemo(in pipeline.TrainingInput) map[string]any {
	m, t := in.Model, in.Transform
	params := fmt.Sprintf("%d×LSTM(%d) dropout %g, %d epochs, lr %g, batch %d, lookback %d, horizon %d, target %s, features %s",
		m.Layers, m.Units, m.Dropout, m.Epochs, m.LearningRate, m.BatchSize, in.Lookback, in.Horizon, t.Target, strings.Join(t.Features, ","))
	mode := "train"
	if in.Tune.Trials > 0 {
		mode = "train + search"
		params += fmt.Sprintf("; search %d trials (%s)", in.Tune.Trials, in.Tune.WithDefaults().Sampler)
	}
	if in.Device != "" && in.Device != "auto" {
		params += "; device " + in.Device
	}
	return map[string]any{memoMode: mode, memoData: dataLabel(in.Source, in.CSVKey, in.Download), memoParams: params}
}

// retrainMemo is a RetrainingPipeline's memo at its start (merge adds the
// mode it chose, the base and the data's version).
func retrainMemo(in pipeline.RetrainingInput, o pipeline.RetrainOptions) map[string]any {
	names := make([]string, len(in.Files))
	for i, f := range in.Files {
		names[i] = fmt.Sprintf("%s (%s)", f.Name, shortHash(f.SHA256))
	}
	base := "the champion, else the latest"
	if o.BaseVersion > 0 {
		base = fmt.Sprintf("v%d", o.BaseVersion)
	}
	return map[string]any{
		memoMode:   "retrain " + o.Mode,
		memoData:   fmt.Sprintf("%d new file(s): %s", len(in.Files), strings.Join(names, ", ")),
		memoBase:   base,
		memoParams: retrainParamsLabel(o),
	}
}

// retrainParamsLabel summarizes the options a retrain was given.
func retrainParamsLabel(o pipeline.RetrainOptions) string {
	parts := []string{"mode " + o.Mode}
	if o.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("%d epochs", o.Epochs))
	}
	if o.LearningRate > 0 {
		parts = append(parts, fmt.Sprintf("lr %g", o.LearningRate))
	}
	parts = append(parts, fmt.Sprintf("test fraction %g", o.TestFraction))
	if o.Mode == pipeline.ModeAuto {
		parts = append(parts, fmt.Sprintf("drift threshold %g", o.DriftThreshold))
	}
	if o.ForcePromote {
		parts = append(parts, "force promote")
	}
	return strings.Join(parts, ", ")
}

// tuneMemo is the memo of a training's search (its child Tune workflow,
// set in the child's start options).
func tuneMemo(ticker string, spec pipeline.TuneSpec) map[string]any {
	spec = spec.WithDefaults()
	return map[string]any{memoTicker: ticker, memoMode: "tune",
		memoParams: fmt.Sprintf("%d trials (%s), %d at once, %d epochs each", spec.Trials, spec.Sampler, spec.Concurrency, spec.Epochs)}
}
