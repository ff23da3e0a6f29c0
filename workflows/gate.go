package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/finsight/finsight/internal/backtest"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// gateBacktestVersion marks the training runs whose backtest gate runs the
// backtest (earlier code judged them on the split). No recorded history
// has a gate, so none reaches it; it keeps any such run on its old path.
const gateBacktestVersion = "gate-backtest"

// backtest runs the backtest gate's evidence: a Backtest child
// (<run id>-backtest) of the run's own CSV and settings, with the model
// params the run trains (the tuned ones when it tuned), before anything is
// registered. Its failure fails the run with the child's reason, so a
// model the gate could not judge is never registered.
func (r *trainingRun) backtest(ctx workflow.Context, t *tracker) error {
	if workflow.GetVersion(ctx, gateBacktestVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	opts := workflow.ChildWorkflowOptions{WorkflowID: r.runID + "-backtest", WaitForCancellation: true}
	if r.in.SearchAttributes {
		// As the tuning child: the search for a ticker finds it. Child
		// options are not compared on replay.
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(attrTicker.ValueSet(r.ticker))
	}
	var res pipeline.BacktestResult
	err := workflow.ExecuteChildWorkflow(workflow.WithChildOptions(ctx, opts), pipeline.BacktestWorkflow, r.gateBacktestInput()).Get(ctx, &res)
	if err != nil {
		return backtestFailed(err)
	}
	ev, err := lstmEvidence(res)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("backtest failed: "+err.Error(), steps.ErrInvalidData, err)
	}
	r.evidence = &ev
	t.addArtifacts(map[string]string{"backtest_summary.json": res.SummaryURI, "backtest_report.html": res.ReportURI})
	return nil
}

// gateBacktestInput is the backtest of what this run trains: the same CSV
// (downloaded or uploaded), columns, window, target transform, validation
// rules, interval levels, device and model params.
func (r *trainingRun) gateBacktestInput() pipeline.BacktestInput {
	folds := r.in.BacktestFolds
	if folds == 0 {
		folds = pipeline.DefaultGateFolds
	}
	return pipeline.BacktestInput{
		Ticker: r.ticker, CSVKey: r.csvKey, Format: r.in.Format, Source: r.in.Source,
		Spec: backtest.Spec{Folds: folds}, Lookback: r.in.Lookback, Horizon: r.in.Horizon,
		Model: r.params, Transform: r.in.Transform, Validate: r.in.Validate, Levels: r.in.IntervalLevels, Device: r.in.Device,
	}
}

// lstmEvidence takes the trained model's summary out of a backtest.
func lstmEvidence(res pipeline.BacktestResult) (steps.BacktestEvidence, error) {
	for _, m := range res.Summary {
		if m.Model == pipeline.ModelLSTM {
			return steps.BacktestEvidence{BacktestID: res.BacktestID, Folds: m.Folds, BeatNaive: m.BeatNaive, PooledN: m.PooledN,
				DMStat: m.PooledDMStat, DMPValue: m.PooledDMPValue, SummaryURI: res.SummaryURI}, nil
		}
	}
	return steps.BacktestEvidence{}, fmt.Errorf("backtest %s has no %s model in its summary", res.BacktestID, pipeline.ModelLSTM)
}

// backtestFailed names the backtest step and keeps the child's own reason
// (its step and cause) and error type; a cancellation stays one.
func backtestFailed(err error) error {
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return err
	}
	msg, kind := rootMessage(err), "StepFailed"
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		msg = appErr.Message()
		if appErr.Type() != "" {
			kind = appErr.Type()
		}
	}
	return temporal.NewNonRetryableApplicationError("backtest failed: "+msg, kind, err)
}
