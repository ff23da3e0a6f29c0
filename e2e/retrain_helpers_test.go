package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
)

// csvRows returns the header and the data rows of a shared CSV whose date
// (first column) lies in [from, to] (inclusive; "" = open).
func csvRows(t *testing.T, path, from, to string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\r\n"), "\n")
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		d, _, _ := strings.Cut(l, ",")
		if (from == "" || d >= from) && (to == "" || d <= to) {
			b.WriteString(strings.TrimRight(l, "\r") + "\n")
		}
	}
	return b.Bytes()
}

// nflxUntil2021 is NFLX's history cut at 2021-12-31: the base of a retrain
// with the reference project's 2022 file.
func nflxUntil2021(t *testing.T) []byte {
	return csvRows(t, sharedtest.Path(t, "single", "NFLX.csv"), "", "2021-12-31")
}

// nflx2022 is the reference project's "new data" file, whole.
func nflx2022(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedtest.Path(t, "NFLX_2022_new.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// trainBase uploads csv and trains the ticker's first version.
func (s *stack) trainBase(t *testing.T, ticker string, csv []byte, m pipeline.ModelParams) pipeline.TrainingResult {
	t.Helper()
	key := pipeline.UploadKey(blob.ContentHash(csv))
	if err := blob.PutBytes(context.Background(), s.store, key, csv); err != nil {
		t.Fatal(err)
	}
	return s.trainAs(t, "base-"+ticker, pipeline.TrainingInput{Ticker: ticker, CSVKey: key, Model: m})
}

// drop puts a file into the ticker's inbox.
func (s *stack) drop(t *testing.T, ticker, name string, b []byte) {
	t.Helper()
	if err := blob.PutBytes(context.Background(), s.store, pipeline.InboxPrefix+ticker+"/"+name, b); err != nil {
		t.Fatal(err)
	}
}

// scan runs one InboxScan, as the schedule does, and waits for it.
func (s *stack) scan(t *testing.T) pipeline.InboxResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: s.queue}, pipeline.InboxWorkflow, pipeline.InboxInput{})
	if err != nil {
		t.Fatal(err)
	}
	var res pipeline.InboxResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("InboxScan failed: %v", err)
	}
	return res
}

// status asks the ticker's workflow for its status.
func (s *stack) status(t *testing.T, ticker string) (pipeline.TickerStatus, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st pipeline.TickerStatus
	v, err := s.c.QueryWorkflow(ctx, pipeline.TickerWorkflowID(ticker), "", pipeline.StatusQuery)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

// retrains are the outcomes of real retrains (not duplicates).
func retrains(st pipeline.TickerStatus) []pipeline.RetrainOutcome {
	var out []pipeline.RetrainOutcome
	for _, o := range st.Done {
		if o.WorkflowID != "" {
			out = append(out, o)
		}
	}
	return out
}

// waitRetrains polls the ticker's status until n retrains have finished
// and nothing is queued or running.
func (s *stack) waitRetrains(t *testing.T, ticker string, n int, limit time.Duration) pipeline.TickerStatus {
	t.Helper()
	deadline := time.Now().Add(limit)
	var st pipeline.TickerStatus
	var err error
	for time.Now().Before(deadline) {
		st, err = s.status(t, ticker)
		if err == nil && len(retrains(st)) >= n && st.Running == nil && len(st.Queue) == 0 {
			return st
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%d retrains of %s not finished within %v: status %+v, err %v", n, ticker, limit, st, err)
	return st
}

// result fetches a finished RetrainingPipeline's result.
func (s *stack) result(t *testing.T, workflowID string) pipeline.RetrainingResult {
	t.Helper()
	var r pipeline.RetrainingResult
	if err := s.c.GetWorkflow(context.Background(), workflowID, "").Get(context.Background(), &r); err != nil {
		t.Fatalf("retrain %s: %v", workflowID, err)
	}
	return r
}

// naiveRMSE is the naive forecast's RMSE on the days first..last of the
// CSV (Open of the day before), computed here independently.
func naiveRMSE(t *testing.T, csv []byte, first, last string) (float64, int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")[1:]
	var se float64
	n := 0
	prev := math.NaN()
	for _, l := range lines {
		f := strings.Split(l, ",")
		open, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		if f[0] >= first && f[0] <= last && !math.IsNaN(prev) {
			se += (open - prev) * (open - prev)
			n++
		}
		prev = open
	}
	return math.Sqrt(se / float64(n)), n
}

// yahooStub serves the chart API from a CSV: the rows between period1 and
// period2, in the JSON Yahoo answers with.
func yahooStub(t *testing.T, csv []byte) *httptest.Server {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")[1:]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p1, _ := strconv.ParseInt(r.URL.Query().Get("period1"), 10, 64)
		p2, _ := strconv.ParseInt(r.URL.Query().Get("period2"), 10, 64)
		var ts []int64
		cols := make([][]float64, 6)
		for _, l := range lines {
			f := strings.Split(strings.TrimSpace(l), ",")
			d, err := time.Parse("2006-01-02", f[0])
			if err != nil {
				continue
			}
			at := d.Add(14*time.Hour + 30*time.Minute).Unix() // 09:30 New York
			if at < p1 || at > p2 {
				continue
			}
			ts = append(ts, at)
			for i := range cols {
				v, _ := strconv.ParseFloat(f[i+1], 64)
				cols[i] = append(cols[i], v)
			}
		}
		result := map[string]any{
			"meta":      map[string]any{"symbol": "NFLX", "exchangeTimezoneName": "America/New_York", "gmtoffset": -18000},
			"timestamp": ts,
			"indicators": map[string]any{
				"quote":    []any{map[string]any{"open": cols[0], "high": cols[1], "low": cols[2], "close": cols[3], "volume": cols[5]}},
				"adjclose": []any{map[string]any{"adjclose": cols[4]}},
			},
		}
		w.Header().Set("Content-Type", "application/json")
		if len(ts) == 0 {
			result = map[string]any{"meta": result["meta"]}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"chart": map[string]any{"result": []any{result}, "error": nil}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func shortSHA(h string) string { return fmt.Sprintf("%.12s", h) }
