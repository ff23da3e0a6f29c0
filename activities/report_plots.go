package activities

import (
	"context"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/report"
	"github.com/finsight/finsight/internal/runs"
)

// reportPlots renders the report's charts into runs/<id>/plots/ and
// returns them for the page (URLs relative to report.html).
func (a *Activities) reportPlots(ctx context.Context, rec runs.Record, p *frame.Predictions, artifacts map[string]string) ([]report.Plot, error) {
	return nil, nil
}
