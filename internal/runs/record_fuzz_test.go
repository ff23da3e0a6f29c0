package runs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
)

// FuzzRunRecord decodes arbitrary bytes as a run record (as Read does:
// json.Unmarshal into a Record) and as an index object (DecodeIndex), and
// runs what follows a read: Summarize, the row's index key and Duration,
// upserting the row into the decoded index and encoding that index
// (UpdateIndex), and encoding the record again (Write). Nothing may panic,
// a record that decodes must encode again, and the index keeps one row
// per id, newest first when it was.
func FuzzRunRecord(f *testing.F) {
	for _, s := range []string{
		`{"id":"nflx-1","workflow":"TrainingPipeline","ticker":"NFLX","status":"completed","stage":"register","started_at":"2024-01-02T03:04:05Z","finished_at":"2024-01-02T03:14:05Z",` +
			`"params":{"lookback":50,"model":{"epochs":5,"units":64,"layers":2,"learning_rate":0.001},"tune":{"trials":0}},` +
			`"data":{"csv":"uploads/ab.csv","raw":{"uri":"file:///x","sha256":"0123456789abcdef"}},"steps":[{"name":"train","started_at":"2024-01-02T03:04:05Z","wall_ms":1000,"peak_rss_mb":512.5,"attempts":1,"worker":"1@h"}],` +
			`"result":{"model_version":3,"metrics":{"test_rmse":1.5,"naive_rmse":1.6,"test_mape":null},"efficacy":{"overall":{"mase":0.9,"dm_p_value":null}},"promotion":{"promoted":true}},` +
			`"anomaly_counts":{"warning":2},"artifacts":{"report":"file:///r"},"promotion":{"version":3,"alias":"champion","promoted":true,"reason":"better"},` +
			`"notifications":[{"event":"nflx-1/run/completed","kind":"completed","status":"sending","at":"2024-01-02T03:14:05Z"}]}`,
		`{"id":"r2","workflow":"RetrainingPipeline","ticker":"brk.b","status":"failed","error":"x\u00e9\u00e9\u00e9","retrain_params":{"options":{"epochs":3,"learning_rate":0.01}},` +
			`"retrain_result":{"model_version":4,"metrics":{"test_mae":1,"naive_mae":0},"raw":{"sha256":"ff"}}}`,
		`{"runs":[{"id":"b","ticker":"NFLX","kind":"training","status":"completed","started_at":"2024-01-03T00:00:00Z","ended_at":"2024-01-02T00:00:00Z","test_rmse":1.5,"dm_p":null},` +
			`{"id":"a","started_at":"2024-01-03T00:00:00Z"},{"id":"a","started_at":"2025-01-01T00:00:00Z"}]}`,
		`{"runs":null}`, `{"id":"","ticker":"../x","started_at":"0000-01-01T00:00:00Z"}`, `{"finished_at":null,"result":null}`,
		`null`, `{}`, `[]`, ``, `{"id":1}`, `{"started_at":"9999-12-31T23:59:59.999999999-23:59"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Record
		if err := json.Unmarshal(data, &r); err == nil {
			row := Summarize(r)
			_ = row.Duration()
			if len(row.Error) > maxIndexError {
				t.Fatalf("the row keeps an error of %d bytes, over %d", len(row.Error), maxIndexError)
			}
			if err := blob.ValidateKey(IndexKey(r.Ticker)); err != nil {
				t.Fatalf("ticker %q: index key: %v", r.Ticker, err)
			}
			if _, err := json.MarshalIndent(r, "", "  "); err != nil {
				t.Fatalf("a record that decodes does not encode again, so Write cannot save it: %v", err)
			}
			upsertAndEncode(t, indexFile{}, row)
		}
		rows, err := DecodeIndex(data)
		if err != nil {
			return
		}
		row := Summary{ID: "fuzz", StartedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		if len(rows) > 0 {
			row = rows[0]
			row.Status = StatusCompleted
		}
		upsertAndEncode(t, indexFile{Runs: rows}, row)
	})
}

// upsertAndEncode puts row in f as UpdateIndex does and checks the result:
// one row of its id, encoded.
func upsertAndEncode(t *testing.T, f indexFile, row Summary) {
	t.Helper()
	before := 0
	for _, r := range f.Runs {
		if r.ID == row.ID {
			before++
		}
	}
	f.upsert(row, true)
	after := 0
	for _, r := range f.Runs {
		if r.ID == row.ID {
			after++
		}
	}
	if after != max(before, 1) {
		t.Fatalf("%d rows of id %q before the upsert, %d after", before, row.ID, after)
	}
	b, ok, err := encodeIndex(f)
	if err != nil || !ok {
		t.Fatalf("encode the index: %v", err)
	}
	if _, err := DecodeIndex(b); err != nil {
		t.Fatalf("the index written does not decode: %v", err)
	}
}
