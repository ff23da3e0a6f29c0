package activities

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/internal/validate"
)

// CheckNewData validates new files against the data the base model saw:
// the daily-bar rules and the training schema (a critical finding rejects
// the file), agreement with every day already present (a conflicting value
// rejects the file; nothing is overwritten), and at least one new day.
// Then it measures drift of the accepted new days' returns (Jensen–Shannon
// divergence and Kolmogorov–Smirnov test per return column) against the
// base's training split. Files are taken in order of their first date.
func (a *Activities) CheckNewData(ctx context.Context, in steps.CheckNewDataInput) (steps.CheckNewDataResult, error) {
	if err := in.Config.Validate(); err != nil {
		return steps.CheckNewDataResult{}, invalid(steps.ErrInvalidParams, err, "%v", err)
	}
	train, err := a.readBars(ctx, in.Base.Train)
	if err != nil {
		return steps.CheckNewDataResult{}, err
	}
	acc, err := a.readBars(ctx, in.Base.Raw)
	if err != nil {
		return steps.CheckNewDataResult{}, err
	}
	files, err := a.readNewFiles(ctx, in.Files)
	if err != nil {
		return steps.CheckNewDataResult{}, err
	}
	schema, trainStats := validate.InferSchema(train), validate.Describe(train, in.Config.Bins)
	out := steps.CheckNewDataResult{}
	for _, nf := range files {
		f, b := nf.NewFile, nf.bars
		o := pipeline.FileOutcome{Name: f.Name, SHA256: f.SHA256, Raw: f.Raw, Rows: b.Len(), Read: f.Read,
			First: b.Date[0].Format(frame.DateLayout), Last: b.Date[b.Len()-1].Format(frame.DateLayout)}
		merged, reason := checkOne(acc, b, schema, trainStats, in.Config)
		if reason != "" {
			o.Rejected, o.Reason = true, reason
		} else {
			o.NewRows = merged.Len() - acc.Len()
			acc = merged
			out.Accepted = append(out.Accepted, f.Raw)
		}
		out.Files = append(out.Files, o)
	}
	if len(out.Accepted) > 0 {
		out.Drift = newDaysDrift(acc, in.Base.LastDate, trainStats, in.Config, in.DriftThreshold)
	}
	return out, nil
}

// newFileBars is a new file with its bars.
type newFileBars struct {
	steps.NewFile
	bars *frame.Bars
}

// readNewFiles reads each file's bars, ordered by first date.
func (a *Activities) readNewFiles(ctx context.Context, in []steps.NewFile) ([]newFileBars, error) {
	out := make([]newFileBars, 0, len(in))
	for _, f := range in {
		b, err := a.readBars(ctx, f.Raw)
		if err != nil {
			return nil, err
		}
		if b.Len() == 0 {
			return nil, invalid(steps.ErrInvalidData, nil, "%s has no rows", f.Name)
		}
		out = append(out, newFileBars{f, b})
	}
	sort.SliceStable(out, func(x, y int) bool { return out[x].bars.Date[0].Before(out[y].bars.Date[0]) })
	return out, nil
}

// checkOne validates one file against the schema and statistics of the
// base's training split and merges it into acc; a non-empty reason rejects
// it.
func checkOne(acc, b *frame.Bars, schema validate.Schema, train validate.Stats, cfg validate.Config) (*frame.Bars, string) {
	var critical []string
	n := 0
	for _, an := range validate.Detect(b, schema, train, cfg) {
		if an.Severity != validate.SeverityCritical {
			continue
		}
		n++
		if len(critical) < 5 {
			critical = append(critical, fmt.Sprintf("%s %s: %s", an.Rule, an.Date, an.Detail))
		}
	}
	if n > 0 {
		more := ""
		if n > len(critical) {
			more = fmt.Sprintf(" (and %d more)", n-len(critical))
		}
		return nil, fmt.Sprintf("%d critical anomalies against the base model's training data: %s%s", n, strings.Join(critical, "; "), more)
	}
	merged, rep, err := prep.Merge(acc, b)
	if err != nil {
		return nil, "conflicts with days already present: " + err.Error()
	}
	if rep.NewRows == 0 {
		return nil, fmt.Sprintf("no new day: all %d rows are already in the data (which ends %s)", b.Len(), acc.Date[acc.Len()-1].Format(frame.DateLayout))
	}
	return merged, ""
}

// newDaysDrift measures the returns of the days after the base's last day
// (with that day as their first anchor) against the training statistics.
func newDaysDrift(merged *frame.Bars, baseLast string, train validate.Stats, cfg validate.Config, threshold float64) pipeline.Drift {
	start := 0 // new days all before the base's (a backfill): measure everything
	for i, d := range merged.Date {
		if d.Format(frame.DateLayout) > baseLast {
			start = max(0, i-1)
			break
		}
	}
	d := pipeline.Drift{Threshold: threshold, JS: map[string]float64{}, KSP: map[string]float64{}}
	for _, c := range validate.ReturnDrift(merged.Slice(start, merged.Len()), train, cfg) {
		d.JS[c.Column], d.KSP[c.Column] = c.JS, c.KSP
		if c.JS > d.MaxJS || d.Feature == "" {
			d.MaxJS, d.Feature = c.JS, c.Column
		}
	}
	d.Exceeded = d.MaxJS > threshold
	return d
}
