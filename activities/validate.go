package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/internal/validate"
)

// Validate infers the schema from the training split, describes every
// split with statistics (persisted as JSON), checks the daily-bar rules on
// each split, and detects anomalies of validation and test against the
// training schema and statistics (missing values, schema mismatch, bad
// ticks, drift of returns, mean/std shifts). With FailOnCritical a critical
// anomaly fails the step with a non-retryable error naming the rows.
func (a *Activities) Validate(ctx context.Context, in steps.ValidateInput) (steps.ValidateResult, error) {
	if err := in.Config.Validate(); err != nil {
		return steps.ValidateResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	train, err := a.readBars(ctx, in.Splits.Train)
	if err != nil {
		return steps.ValidateResult{}, err
	}
	schema := validate.InferSchema(train)
	trainStats := validate.Describe(train, in.Config.Bins)
	out := steps.ValidateResult{Counts: map[string]int{}}
	var all []pipeline.Anomaly
	if out.Schema, err = a.putJSON(ctx, "schema", in.Splits.Train, schema); err != nil {
		return steps.ValidateResult{}, err
	}
	for i, ref := range in.Splits.Parts() {
		bars := train
		if i > 0 {
			if bars, err = a.readBars(ctx, *ref); err != nil {
				return steps.ValidateResult{}, err
			}
		}
		stats := trainStats
		if i > 0 {
			stats = validate.Describe(bars, in.Config.Bins)
		}
		if out.Stats[i], err = a.putJSON(ctx, "stats", *ref, stats); err != nil {
			return steps.ValidateResult{}, err
		}
		for _, an := range validate.Detect(bars, schema, trainStats, in.Config) {
			all = append(all, pipeline.Anomaly{Split: splitNames[i], Anomaly: an})
			out.Counts[an.Severity]++
		}
	}
	out.Anomalies = firstAnomalies(all, steps.MaxListedAnomalies)
	if len(all) > 0 {
		if out.AnomalyList, err = a.putAnomalies(ctx, in, all); err != nil {
			return steps.ValidateResult{}, err
		}
		out.AnomalyURI = a.Store.URI(out.AnomalyList.Key)
	}
	if in.FailOnCritical && out.Counts[validate.SeverityCritical] > 0 {
		return out, invalid(steps.ErrInvalidData, nil, "%s", criticalMessage(all))
	}
	return out, nil
}

// firstAnomalies is the first n of all, critical ones first, then
// warnings, then the rest, each in the order found.
func firstAnomalies(all []pipeline.Anomaly, n int) []pipeline.Anomaly {
	rank := func(a pipeline.Anomaly) int {
		switch a.Severity {
		case validate.SeverityCritical:
			return 0
		case validate.SeverityWarning:
			return 1
		}
		return 2
	}
	sorted := slices.Clone(all)
	slices.SortStableFunc(sorted, func(a, b pipeline.Anomaly) int { return rank(a) - rank(b) })
	return sorted[:min(n, len(sorted))]
}

// putAnomalies stores the whole anomaly list as JSON, keyed by the
// validation's input.
func (a *Activities) putAnomalies(ctx context.Context, in steps.ValidateInput, all []pipeline.Anomaly) (blob.Ref, error) {
	b, err := json.Marshal(all)
	if err != nil {
		return blob.Ref{}, fmt.Errorf("encode anomalies: %w", err)
	}
	key, err := derivedKey("anomalies", "json", in)
	if err != nil {
		return blob.Ref{}, err
	}
	return a.putImmutable(ctx, key, b, len(all))
}

// readAnomalies reads a list putAnomalies stored.
func (a *Activities) readAnomalies(ctx context.Context, ref blob.Ref) ([]pipeline.Anomaly, error) {
	raw, err := a.readVerified(ctx, ref)
	if err != nil {
		return nil, err
	}
	var all []pipeline.Anomaly
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, invalid(steps.ErrCorrupt, err, "anomaly list %s: %v", ref.Key, err)
	}
	return all, nil
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
