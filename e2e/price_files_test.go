package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
)

// asNasdaq renders Yahoo-format rows (Date,Open,High,Low,Close,Adj
// Close,Volume) the way Nasdaq's historical-quotes download writes them:
// Date,Close/Last,Volume,Open,High,Low, MM/DD/YYYY, "$" prices, newest
// first. The numbers are the original text, so no price is changed.
func asNasdaq(t *testing.T, yahoo []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimRight(string(yahoo), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "Date,Open,High,Low,Close,Adj Close,Volume") {
		t.Fatalf("not a Yahoo header: %q", lines[0])
	}
	var b bytes.Buffer
	b.WriteString("Date,Close/Last,Volume,Open,High,Low\r\n")
	for i := len(lines) - 1; i > 0; i-- {
		f := strings.Split(strings.TrimRight(lines[i], "\r"), ",")
		if len(f) != 7 {
			t.Fatalf("row %q", lines[i])
		}
		day, err := time.Parse("2006-01-02", f[0])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.Join([]string{day.Format("01/02/2006"), "$" + f[4], f[6], "$" + f[1], "$" + f[2], "$" + f[3]}, ",") + "\r\n")
	}
	return b.Bytes()
}

// TestNasdaqFilesThroughEveryEntryPoint feeds Nasdaq-format NFLX files
// (newest first, MM/DD/YYYY, $ prices) to `starter validate`, `starter
// train` and the retraining inbox, on one dev server and worker: each reads
// them with the one CSV reader, to the same data version as the Yahoo
// original.
func TestNasdaqFilesThroughEveryEntryPoint(t *testing.T) {
	srv := devserver.Start(t)
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := startStackOn(t, srv, store)
	starter := buildStarter(t)
	files := t.TempDir()
	runStarter := func(t *testing.T, args ...string) string {
		t.Helper()
		cmd := exec.Command(starter, args...)
		cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+srv.Address, "FINSIGHT_STORE="+dir, "FINSIGHT_TASK_QUEUE="+s.queue)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("starter %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	writeFile := func(name string, b []byte) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := csvRows(t, sharedtest.Path(t, "single", "NFLX.csv"), "", "2021-12-31")
	yahooPath, nasdaqPath := writeFile("NFLX-yahoo.csv", base), writeFile("NFLX-nasdaq.csv", asNasdaq(t, base))
	var yahooVersion string

	t.Run("starter validate", func(t *testing.T) {
		want := runStarter(t, "validate", "--ticker", "NFLX", "--csv", yahooPath)
		got := runStarter(t, "validate", "--ticker", "NFLX", "--csv", nasdaqPath)
		yahooVersion = dataVersionIn(t, want)
		if v := dataVersionIn(t, got); v != yahooVersion {
			t.Fatalf("the Nasdaq file is data version %s, the Yahoo original %s\nnasdaq:\n%s\nyahoo:\n%s", v, yahooVersion, got, want)
		}
		for _, w := range []string{"as a nasdaq file", "dates MM/DD/YYYY", "newest-first and were sorted oldest-first"} {
			if !strings.Contains(got, w) {
				t.Errorf("starter validate does not say %q:\n%s", w, got)
			}
		}
	})

	t.Run("starter train", func(t *testing.T) {
		out := runStarter(t, "train", "--ticker", "NFLX", "--csv", nasdaqPath, "--epochs", "1", "--json")
		var res pipeline.TrainingResult
		if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
			t.Fatalf("starter train --json: %v\n%s", err, out)
		}
		if yahooVersion == "" || !strings.HasPrefix(res.Raw.SHA256, yahooVersion) {
			t.Fatalf("trained on data version %.12s, the Yahoo original is %s", res.Raw.SHA256, yahooVersion)
		}
		rec, err := runs.Read(context.Background(), store, res.WorkflowID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rec.Data.Read, "newest-first and were sorted oldest-first") || rec.Data.Raw != res.Raw {
			t.Fatalf("run record data %+v does not say the rows were sorted", rec.Data)
		}
	})

	t.Run("inbox", func(t *testing.T) {
		if yahooVersion == "" {
			t.Fatal("no model was trained above: the inbox needs one")
		}
		s.drop(t, "NFLX", "nflx-2022-nasdaq.csv", asNasdaq(t, nflx2022(t)))
		if got := s.scan(t); len(got.HandedOff) != 1 {
			t.Fatalf("scan handed off %+v", got)
		}
		st := s.waitRetrains(t, "NFLX", 1, 10*time.Minute)
		o := retrains(st)[0]
		if o.Error != "" {
			t.Fatalf("retrain failed: %s", o.Error)
		}
		res := s.result(t, o.WorkflowID)
		if len(res.Files) != 1 || res.Files[0].Rejected || res.Files[0].Rows != 251 || res.Files[0].First != "2022-01-03" ||
			!strings.Contains(res.Files[0].Read, "as a nasdaq file") {
			t.Fatalf("file outcome %+v, want the 251 rows of 2022 read as a Nasdaq file", res.Files)
		}
	})
}

// dataVersionIn finds "data version <sha12>" in starter validate's output.
func dataVersionIn(t *testing.T, out string) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, "data version ")
	if !ok || len(rest) < 12 {
		t.Fatalf("no data version in:\n%s", out)
	}
	return rest[:12]
}
