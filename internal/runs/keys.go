package runs

// The layout of a run's files in the store, in one place: everything a run
// writes lives under runs/<run-id>/.
const prefix = "runs/"

// Dir is the folder of a run's files, with a trailing slash.
func Dir(id string) string { return prefix + id + "/" }

// Key names a file of a run by its path inside the run's folder.
func Key(id, rel string) string { return Dir(id) + rel }

// CheckpointDir is the folder of the checkpoints of one training (name) in
// one Temporal run of the workflow (a reset, a new run id, starts over), with
// a trailing slash.
func CheckpointDir(id, temporalRunID, name string) string {
	return Key(id, "checkpoints/"+temporalRunID+"/"+name+"/")
}

// WeightsKey is where the run's trained weights with content hash sha256
// are written before registering: keyed by content, so no two attempts
// write one object with different bytes.
func WeightsKey(id, sha256 string) string {
	return Key(id, "model/weights-"+sha256[:min(16, len(sha256))]+".bin")
}

// PredictionsKey holds the run's test predictions (Arrow).
func PredictionsKey(id string) string { return Key(id, "predictions.arrow") }

// ReportKey is the run's HTML efficacy report.
func ReportKey(id string) string { return Key(id, "report.html") }

// PlotsDir is the folder of the run's plots, with a trailing slash.
func PlotsDir(id string) string { return Key(id, "plots/") }

func recordKey(id string) string { return Key(id, "run.json") }

func statsKey(id, name string) string { return Key(id, "stats/"+name+".json") }
