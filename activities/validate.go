package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/validate"
)

// ValidateInput is the raw splits and the validation thresholds.
type ValidateInput struct {
	Splits Splits          `json:"splits"`
	Config validate.Config `json:"config"`
	// FailOnCritical makes critical anomalies fail the step (the training
	// pipeline); off, they are only reported (starter validate).
	FailOnCritical bool `json:"fail_on_critical"`
}

// ValidateResult references the persisted schema and statistics and lists
// every anomaly found.
type ValidateResult struct {
	Schema    blob.Ref           `json:"schema"`
	Stats     [3]blob.Ref        `json:"stats"` // train, val, test
	Anomalies []pipeline.Anomaly `json:"anomalies"`
	Counts    map[string]int     `json:"counts"` // by severity
}

// Validate infers the schema from the training split, describes every
// split with statistics (persisted as JSON), checks the daily-bar rules on
// each split, and detects anomalies of validation and test against the
// training schema and statistics (missing values, schema mismatch, bad
// ticks, drift of returns, mean/std shifts). With FailOnCritical a critical
// anomaly fails the step with a non-retryable error naming the rows.
func (a *Activities) Validate(ctx context.Context, in ValidateInput) (ValidateResult, error) {
	if err := in.Config.Validate(); err != nil {
		return ValidateResult{}, invalid(ErrInvalidParams, err, "%v", err)
	}
	train, err := a.readBars(ctx, in.Splits.Train)
	if err != nil {
		return ValidateResult{}, err
	}
	schema := validate.InferSchema(train)
	trainStats := validate.Describe(train, in.Config.Bins)
	out := ValidateResult{Counts: map[string]int{}}
	if out.Schema, err = a.putJSON(ctx, "schema", in.Splits.Train, schema); err != nil {
		return ValidateResult{}, err
	}
	for i, ref := range in.Splits.parts() {
		bars := train
		if i > 0 {
			if bars, err = a.readBars(ctx, *ref); err != nil {
				return ValidateResult{}, err
			}
		}
		stats := trainStats
		if i > 0 {
			stats = validate.Describe(bars, in.Config.Bins)
		}
		if out.Stats[i], err = a.putJSON(ctx, "stats", *ref, stats); err != nil {
			return ValidateResult{}, err
		}
		for _, an := range validate.Detect(bars, schema, trainStats, in.Config) {
			out.Anomalies = append(out.Anomalies, pipeline.Anomaly{Split: splitNames[i], Anomaly: an})
			out.Counts[an.Severity]++
		}
	}
	if in.FailOnCritical && out.Counts[validate.SeverityCritical] > 0 {
		return out, invalid(ErrInvalidData, nil, "%s", criticalMessage(out.Anomalies))
	}
	return out, nil
}

// criticalMessage names the critical anomalies (the first ten) by split,
// rule and date.
func criticalMessage(as []pipeline.Anomaly) string {
	var parts []string
	n := 0
	for _, a := range as {
		if a.Severity != validate.SeverityCritical {
			continue
		}
		n++
		if len(parts) < 10 {
			parts = append(parts, fmt.Sprintf("%s %s %s: %s", a.Split, a.Rule, a.Date, a.Detail))
		}
	}
	more := ""
	if n > len(parts) {
		more = fmt.Sprintf(" (and %d more)", n-len(parts))
	}
	return fmt.Sprintf("%d critical data anomalies: %s%s", n, strings.Join(parts, "; "), more)
}

// putJSON stores v as an immutable derived object keyed by its input.
func (a *Activities) putJSON(ctx context.Context, step string, input blob.Ref, v any) (blob.Ref, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return blob.Ref{}, fmt.Errorf("encode %s: %w", step, err)
	}
	key, err := derivedKey(step, "json", input)
	if err != nil {
		return blob.Ref{}, err
	}
	return a.putImmutable(ctx, key, b, 0)
}
