package pipeline

import (
	"fmt"
	"regexp"
	"time"
)

// fleetIDPattern is what a fleet's id may be: its children's ids (and
// so their runs' folders in the store) start with it.
var fleetIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$`)

// FleetRequest is a fleet as the starter's flags and POST /fleet's JSON
// say it: which tickers (files already in the store: Items, or every CSV
// under Prefix), what to do with each (Kind, and the training settings of
// a `starter train`, or a retrain's options) and how many at once.
type FleetRequest struct {
	Kind      string         `json:"kind"` // training (default), retraining or prepare
	Items     []FleetItem    `json:"items,omitempty"`
	Prefix    string         `json:"prefix,omitempty"`
	Parallel  int            `json:"parallel"`
	GroupSize int            `json:"group_size,omitempty"`
	Train     TrainRequest   `json:"train"`
	Retrain   RetrainOptions `json:"retrain,omitzero"`
	// ID names the fleet's workflow ("": fleet-<kind>-<UTC time>).
	ID string `json:"id,omitempty"`
}

// DefaultFleetRequest is a training fleet with every default filled in; a
// JSON body decoded into it changes only the fields it names.
func DefaultFleetRequest() FleetRequest {
	return FleetRequest{Kind: FleetTraining, Parallel: DefaultFleetParallel, GroupSize: DefaultFleetGroupSize, Train: DefaultTrainRequest()}
}

// Input checks the request and is the fleet's workflow input. Errors are
// *FieldError.
func (r FleetRequest) Input() (FleetInput, error) {
	if r.Parallel < 0 || r.GroupSize < 0 {
		return FleetInput{}, fieldErr("parallel", "parallel and group_size must not be negative")
	}
	// The tickers come from the items; the rest is checked as a one-ticker
	// training request would be.
	tr := r.Train
	tr.Ticker, tr.DataRequest = "FLEET", DataRequest{Source: SourceCSV}
	if err := tr.Check(true); err != nil {
		return FleetInput{}, err
	}
	in := FleetInput{Kind: r.Kind, Items: r.Items, Prefix: r.Prefix, Parallel: r.Parallel, GroupSize: r.GroupSize,
		Training: tr.Input(TrainingData{}), Retrain: r.Retrain}
	in.Training.Ticker = ""
	in = in.WithDefaults()
	if err := in.Check(); err != nil {
		return FleetInput{}, fieldErr("items", "%v", err)
	}
	return in, nil
}

// FleetWorkflowID is the id of a fleet: the request's, else
// fleet-<kind>-<UTC time to the second>.
func FleetWorkflowID(r FleetRequest, kind string, now time.Time) (string, error) {
	if r.ID != "" {
		if !fleetIDPattern.MatchString(r.ID) {
			return "", fieldErr("id", "fleet id %q: want 1-120 letters, digits, '.', '_' or '-' (it names the runs and their folders)", r.ID)
		}
		return r.ID, nil
	}
	return fmt.Sprintf("fleet-%s-%s", kind, now.UTC().Format("20060102-150405")), nil
}
