package activities

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/internal/steps"
	"github.com/finsight/finsight/internal/validate"
)

// csvFile is a price CSV split into its header and its data lines.
type csvFile struct {
	header string
	rows   []string
}

func readSharedCSV(t *testing.T, parts ...string) csvFile {
	t.Helper()
	b, err := os.ReadFile(sharedtest.Path(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return csvFile{header: lines[0], rows: lines[1:]}
}

// between keeps the rows dated from..to (inclusive; "" is open).
func (c csvFile) between(from, to string) csvFile {
	out := csvFile{header: c.header}
	for _, r := range c.rows {
		d := r[:10]
		if (from == "" || d >= from) && (to == "" || d <= to) {
			out.rows = append(out.rows, r)
		}
	}
	return out
}

func (c csvFile) String() string { return c.header + "\n" + strings.Join(c.rows, "\n") + "\n" }

// checkHarness is NFLX ingested up to 2021-12-31 and split 70/10/20: the
// base a retrain with the 2022 data starts from.
type checkHarness struct {
	*harness
	nflx csvFile // all of single/NFLX.csv
	new  csvFile // NFLX_2022_new.csv
	base pipeline.BaseModel
}

func newCheckHarness(t *testing.T) *checkHarness {
	h := &checkHarness{harness: newHarness(t)}
	h.nflx = readSharedCSV(t, "single", "NFLX.csv")
	h.new = readSharedCSV(t, "NFLX_2022_new.csv")
	var ing steps.IngestResult
	if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "NFLX", CSVKey: h.upload(h.nflx.between("", "2021-12-31").String())}, &ing); err != nil {
		t.Fatal(err)
	}
	if ing.LastDate != "2021-12-31" {
		t.Fatalf("base ends %s", ing.LastDate)
	}
	var sp steps.Splits
	if err := h.run(h.acts.Split, steps.SplitInput{Raw: ing.Raw, Fractions: prep.DefaultFractions}, &sp); err != nil {
		t.Fatal(err)
	}
	h.base = pipeline.BaseModel{Raw: ing.Raw, Train: sp.Train, LastDate: "2021-12-31"}
	return h
}

// file ingests csv as a new file of the retrain.
func (h *checkHarness) file(name, csv string) steps.NewFile {
	h.t.Helper()
	var ing steps.IngestResult
	if err := h.run(h.acts.Ingest, steps.IngestInput{Ticker: "NFLX", CSVKey: h.upload(csv)}, &ing); err != nil {
		h.t.Fatalf("ingest %s: %v", name, err)
	}
	return steps.NewFile{Name: name, SHA256: blob.ContentHash([]byte(csv)), Raw: ing.Raw}
}

func (h *checkHarness) check(files ...steps.NewFile) steps.CheckNewDataResult {
	h.t.Helper()
	var out steps.CheckNewDataResult
	in := steps.CheckNewDataInput{Base: h.base, Files: files, Config: validate.DefaultConfig(), DriftThreshold: 0.1}
	if err := h.run(h.acts.CheckNewData, in, &out); err != nil {
		h.t.Fatal(err)
	}
	if len(out.Files) != len(files) {
		h.t.Fatalf("%d outcomes for %d files", len(out.Files), len(files))
	}
	return out
}

// assertDrift checks that drift was measured on both return columns.
func assertDrift(t *testing.T, d pipeline.Drift) {
	t.Helper()
	if math.IsNaN(d.MaxJS) || math.IsInf(d.MaxJS, 0) || d.MaxJS < 0 {
		t.Fatalf("max JS %v", d.MaxJS)
	}
	if len(d.JS) != 2 || len(d.KSP) != 2 {
		t.Fatalf("drift %+v: want JS and KS p of ret_close and ret_open", d)
	}
	maxJS, feature := -1.0, ""
	for _, col := range []string{validate.ColumnReturnClose, validate.ColumnReturnOpen} {
		js, ok := d.JS[col]
		if !ok || math.IsNaN(js) {
			t.Fatalf("JS of %s: %v (present %v)", col, js, ok)
		}
		if p, ok := d.KSP[col]; !ok || p < 0 || p > 1 || math.IsNaN(p) {
			t.Fatalf("KS p of %s: %v (present %v)", col, p, ok)
		}
		if js > maxJS {
			maxJS, feature = js, col
		}
	}
	if d.MaxJS != maxJS || d.Feature != feature {
		t.Fatalf("max JS %v of %q, want %v of %q", d.MaxJS, d.Feature, maxJS, feature)
	}
	if d.Threshold != 0.1 || d.Exceeded != (d.MaxJS > 0.1) {
		t.Fatalf("threshold %v exceeded %v with max JS %v", d.Threshold, d.Exceeded, d.MaxJS)
	}
}

func TestCheckNewDataAcceptsThe2022File(t *testing.T) {
	h := newCheckHarness(t)
	f := h.file("NFLX_2022_new.csv", h.new.String())
	out := h.check(f)
	o := out.Files[0]
	if o.Rejected || o.Reason != "" {
		t.Fatalf("rejected: %s", o.Reason)
	}
	if o.NewRows != 251 || o.Rows != 251 || o.First != "2022-01-03" || o.Last != "2022-12-30" || o.SHA256 != f.SHA256 || o.Name != f.Name {
		t.Fatalf("outcome %+v: want 251 new rows 2022-01-03..2022-12-30", o)
	}
	if len(out.Accepted) != 1 || out.Accepted[0] != f.Raw {
		t.Fatalf("accepted %v, want [%v]", out.Accepted, f.Raw)
	}
	assertDrift(t, out.Drift)
}

func TestCheckNewDataAcceptsTheWholeFileForItsNewDays(t *testing.T) {
	h := newCheckHarness(t)
	// 2002–2021 repeat the base exactly; 2022 is new.
	out := h.check(h.file("NFLX.csv", h.nflx.String()))
	if o := out.Files[0]; o.Rejected || o.NewRows != 251 || o.Rows != len(h.nflx.rows) {
		t.Fatalf("outcome %+v: want accepted with 251 new of %d rows", o, len(h.nflx.rows))
	}
	assertDrift(t, out.Drift)
}

func TestCheckNewDataRejectsAChangedOverlapDay(t *testing.T) {
	h := newCheckHarness(t)
	// The base's last two days, the second with another open (still inside
	// its high–low range), then the 2022 rows.
	last := h.nflx.between("2021-12-30", "2021-12-31")
	if len(last.rows) != 2 || !strings.HasPrefix(last.rows[1], "2021-12-31,610.01") {
		t.Fatalf("unexpected base rows %v", last.rows)
	}
	changed := csvFile{header: h.new.header, rows: append([]string{last.rows[0],
		"2021-12-31,612.5" + strings.TrimPrefix(last.rows[1], "2021-12-31,610.010009765625")}, h.new.rows...)}
	bad := h.file("changed.csv", changed.String())
	good := h.file("NFLX_2022_new.csv", h.new.String())

	out := h.check(good, bad)
	byName := map[string]pipeline.FileOutcome{}
	for _, o := range out.Files {
		byName[o.Name] = o
	}
	if o := byName["changed.csv"]; !o.Rejected || !strings.Contains(o.Reason, "conflicts") || !strings.Contains(o.Reason, "2021-12-31") || o.NewRows != 0 {
		t.Fatalf("changed file: %+v, want rejected for conflicts on 2021-12-31", o)
	}
	// The rejected file merged nothing: all of 2022 is still new for the good one.
	if o := byName["NFLX_2022_new.csv"]; o.Rejected || o.NewRows != 251 {
		t.Fatalf("good file: %+v, want accepted with 251 new rows", o)
	}
	if len(out.Accepted) != 1 || out.Accepted[0] != good.Raw {
		t.Fatalf("accepted %v, want only the good file", out.Accepted)
	}
	assertDrift(t, out.Drift)
}

func TestCheckNewDataRejectsAFileWithNoNewDay(t *testing.T) {
	h := newCheckHarness(t)
	old := h.nflx.between("2021-06-01", "2021-12-31")
	out := h.check(h.file("old.csv", old.String()))
	o := out.Files[0]
	if !o.Rejected || !strings.Contains(o.Reason, "no new day") || o.NewRows != 0 || o.Rows != len(old.rows) {
		t.Fatalf("outcome %+v: want rejected with no new day", o)
	}
	if len(out.Accepted) != 0 || out.Drift.Feature != "" || len(out.Drift.JS) != 0 {
		t.Fatalf("accepted %v, drift %+v: want nothing accepted and no drift", out.Accepted, out.Drift)
	}
}

func TestCheckNewDataTakesFilesInDateOrder(t *testing.T) {
	h := newCheckHarness(t)
	h1 := h.file("h1.csv", h.new.between("", "2022-06-30").String())
	h2 := h.file("h2.csv", h.new.between("2022-07-01", "").String())
	out := h.check(h2, h1)
	if out.Files[0].Name != "h1.csv" || out.Files[1].Name != "h2.csv" {
		t.Fatalf("outcomes in order %s, %s: want h1.csv first", out.Files[0].Name, out.Files[1].Name)
	}
	if out.Files[0].First != "2022-01-03" || out.Files[1].First < "2022-07-01" {
		t.Fatalf("first dates %s, %s", out.Files[0].First, out.Files[1].First)
	}
	n := 0
	for _, o := range out.Files {
		if o.Rejected {
			t.Fatalf("%s rejected: %s", o.Name, o.Reason)
		}
		n += o.NewRows
	}
	if n != 251 || out.Files[0].NewRows != out.Files[0].Rows {
		t.Fatalf("new rows %d+%d, want all 251", out.Files[0].NewRows, out.Files[1].NewRows)
	}
	if len(out.Accepted) != 2 || out.Accepted[0] != h1.Raw || out.Accepted[1] != h2.Raw {
		t.Fatalf("accepted %v, want h1 then h2", out.Accepted)
	}
	assertDrift(t, out.Drift)
}

func TestCheckNewDataAcceptedDaysAreNotNewForALaterFile(t *testing.T) {
	h := newCheckHarness(t)
	// NFLX.csv starts earlier, so it is taken first and brings 2022 in;
	// the 2022 file then has nothing new.
	out := h.check(h.file("NFLX_2022_new.csv", h.new.String()), h.file("NFLX.csv", h.nflx.String()))
	if o := out.Files[0]; o.Name != "NFLX.csv" || o.Rejected || o.NewRows != 251 {
		t.Fatalf("first outcome %+v: want NFLX.csv with 251 new rows", o)
	}
	if o := out.Files[1]; !o.Rejected || !strings.Contains(o.Reason, "no new day") {
		t.Fatalf("second outcome %+v: want the 2022 file rejected with no new day", o)
	}
}

func TestCheckNewDataRejectsABadConfig(t *testing.T) {
	h := newCheckHarness(t)
	in := steps.CheckNewDataInput{Base: h.base, Files: []steps.NewFile{h.file("NFLX_2022_new.csv", h.new.String())},
		Config: validate.Config{KSPValue: 2}}
	var out steps.CheckNewDataResult
	assertAppError(t, h.run(h.acts.CheckNewData, in, &out), steps.ErrInvalidParams)
}

func TestCheckNewDataRejectsACriticalAnomaly(t *testing.T) {
	h := newCheckHarness(t)
	rows := append([]string(nil), h.new.rows...)
	// 2022-01-04 with a zero low: a non-positive price.
	if !strings.HasPrefix(rows[1], "2022-01-04,599.909973,600.409973,581.599976,") {
		t.Fatalf("unexpected row %s", rows[1])
	}
	rows[1] = strings.Replace(rows[1], ",581.599976,", ",0,", 1)
	bad := h.file("zero.csv", csvFile{header: h.new.header, rows: rows}.String())
	out := h.check(bad)
	if o := out.Files[0]; !o.Rejected || !strings.Contains(o.Reason, "critical") || !strings.Contains(o.Reason, "2022-01-04") || o.NewRows != 0 {
		t.Fatalf("outcome %+v: want rejected for a critical anomaly on 2022-01-04", o)
	}
	if len(out.Accepted) != 0 {
		t.Fatalf("accepted %v", out.Accepted)
	}
}

func TestCheckNewDataDriftIsAnchoredOnTheBaseLastDay(t *testing.T) {
	h := newCheckHarness(t)
	// Two new days give two returns only with 2021-12-31 as their anchor;
	// ReturnDrift needs two.
	out := h.check(h.file("two.csv", h.new.between("", "2022-01-04").String()))
	if o := out.Files[0]; o.Rejected || o.NewRows != 2 {
		t.Fatalf("outcome %+v: want 2 new rows accepted", o)
	}
	assertDrift(t, out.Drift)
}
