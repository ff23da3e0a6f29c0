package api

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/pipeline"
)

var uiFleetPage = uiPage("fleet.html", nil)

// uiFleetView is what fleet.html renders: a finished fleet's report, or a
// running fleet's progress (the page then refreshes itself).
type uiFleetView struct {
	Nav      uiNav
	ID       string
	Running  bool
	Progress *pipeline.FleetProgress
	Result   *pipeline.FleetResult
	Prepare  bool
	Duration string
	Reasons  []uiReasonCount
	Rows     []uiFleetRow
}

type uiReasonCount struct {
	Reason string
	Count  int
}

// uiFleetRow is one ticker of the report.
type uiFleetRow struct {
	pipeline.FleetOutcome
	Version, RMSE, Naive, Delta, MASE, DMP, Windows, Seconds string
	Beat, Lost, Failed                                       bool
}

// uiFleet answers GET /ui/fleets/{id}: the fleet's report as a page.
func (s *Server) uiFleet(c *gin.Context) {
	st, ok := s.fleetStatus(c)
	if !ok {
		return
	}
	v := uiFleetView{Nav: s.nav("fleet", "", st.FleetID), ID: st.FleetID, Running: st.Status == "running", Progress: st.Progress, Result: st.Result}
	if r := st.Result; r != nil {
		v.Prepare = r.Kind == pipeline.FleetPrepare
		v.Duration = r.Finished.Sub(r.Started).Round(1e9).String()
		for reason, n := range r.Totals.Reasons {
			v.Reasons = append(v.Reasons, uiReasonCount{reason, n})
		}
		slices.SortFunc(v.Reasons, func(a, b uiReasonCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Reason, b.Reason)
		})
		for _, o := range r.Outcomes {
			v.Rows = append(v.Rows, fleetRow(o))
		}
	}
	render(c, uiFleetPage, v)
}

func fleetRow(o pipeline.FleetOutcome) uiFleetRow {
	row := uiFleetRow{FleetOutcome: o, Failed: o.Status == pipeline.FleetFailed, Seconds: fmt.Sprintf("%.0f", o.Seconds)}
	if o.ModelVersion > 0 {
		row.Version = fmt.Sprintf("v%d", o.ModelVersion)
	}
	if o.TestDays > 0 && o.NaiveRMSE > 0 {
		row.RMSE, row.Naive = fmt.Sprintf("%.4g", o.RMSE), fmt.Sprintf("%.4g", o.NaiveRMSE)
		row.Delta = fmt.Sprintf("%+.2f%%", 100*(o.RMSE-o.NaiveRMSE)/o.NaiveRMSE)
		row.Beat, row.Lost = o.RMSE < o.NaiveRMSE, o.RMSE > o.NaiveRMSE
		row.MASE, row.DMP = fmt.Sprintf("%.3f", o.MASE), fmt.Sprintf("%.3f", o.DMP)
	}
	if o.Rows > 0 {
		row.Windows = fmt.Sprintf("%d / %d / %d", o.Windows[0], o.Windows[1], o.Windows[2])
		row.Seconds = fmt.Sprintf("%.2f", o.Seconds)
	}
	return row
}
