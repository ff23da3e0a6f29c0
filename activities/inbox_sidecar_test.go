package activities

import (
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// sidecarCSV is real NFLX rows (2022-01-03..05) under a German
// spreadsheet's column names, day-first dates that alone cannot tell
// day from month, and decimal commas.
const sidecarCSV = "Tag;Eröffnung;Hoch;Tief;Schluss;Umsatz\n" +
	"03/01/2022;605,61;609,99;590,56;597,37;3067500\n" +
	"04/01/2022;599,91;600,41;581,6;591,15;4393100\n" +
	"05/01/2022;592;592,84;566,88;567,52;4148700\n"

const sidecarJSON = `{"columns":{"date":"Tag","open":"Eröffnung","high":"Hoch","low":"Tief","close":"Schluss","volume":"Umsatz"},"date_format":"DD/MM/YYYY"}`

func TestScanInboxReadsAFormatSidecar(t *testing.T) {
	h := newInboxHarness(t)
	h.put("inbox/NFLX/boerse.json", sidecarJSON)
	h.put("inbox/NFLX/boerse.csv", sidecarCSV)
	sha := blob.ContentHash([]byte(sidecarCSV))
	res := h.mustScan(pipeline.InboxInput{})
	if len(res.HandedOff) != 1 || len(res.Skipped) != 0 {
		t.Fatalf("result %+v: want the CSV handed off and the sidecar not listed", res)
	}
	calls := h.sig.recorded()
	if len(calls) != 1 {
		t.Fatalf("%d signals, want 1", len(calls))
	}
	d := calls[0].Arg.(pipeline.NewData)
	want := frame.CSVFormat{Columns: frame.ColumnNames{Date: "Tag", Open: "Eröffnung", High: "Hoch", Low: "Tief", Close: "Schluss", Volume: "Umsatz"},
		DateFormat: "DD/MM/YYYY"}
	if d.Format != want || d.SHA256 != sha || d.Identity() == sha {
		t.Fatalf("new data %+v: want the sidecar's format and an identity other than the bytes' hash", d)
	}
	if _, ok := h.claim("NFLX", d.Identity()); !ok {
		t.Fatal("no claim under the file's identity (content and format)")
	}
	for _, k := range []string{"inbox/NFLX/boerse.csv", "inbox/NFLX/boerse.json"} {
		if h.exists(k) {
			t.Fatalf("%s is still in the inbox", k)
		}
	}
	if !h.exists("inbox/NFLX/processed/"+sha[:12]+"_boerse.json") || !h.exists("inbox/NFLX/processed/"+sha[:12]+"_boerse.csv") {
		t.Fatal("the CSV and its sidecar were not moved to processed/ together")
	}

	// What the ticker's retrain will do with it: ingest with the format.
	var got steps.IngestResult
	v, err := h.env().ExecuteActivity(h.acts.Ingest, steps.IngestInput{Ticker: "NFLX", CSVKey: d.CSVKey, Format: d.Format})
	if err != nil {
		t.Fatalf("ingest with the sidecar's format: %v", err)
	}
	if err := v.Get(&got); err != nil {
		t.Fatal(err)
	}
	if got.FirstDate != "2022-01-03" || got.LastDate != "2022-01-05" || got.Raw.Rows != 3 || !got.Read.DecimalComma || got.Read.Source != "mapped" {
		t.Fatalf("ingested %+v", got)
	}
	// Without the format the same bytes are refused, saying how to map them.
	_, err = h.env().ExecuteActivity(h.acts.Ingest, steps.IngestInput{Ticker: "NFLX", CSVKey: d.CSVKey})
	if err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), "--columns") {
		t.Fatalf("ingest without the format: %v", err)
	}

	// The same bytes dropped again without a sidecar are other data (read
	// another way), not a duplicate.
	h.put("inbox/NFLX/boerse.csv", sidecarCSV)
	if res := h.mustScan(pipeline.InboxInput{}); len(res.HandedOff) != 1 || len(res.Duplicates) != 0 {
		t.Fatalf("rescan without the sidecar: %+v", res)
	}
}

func TestScanInboxLeavesAFileWithABadSidecar(t *testing.T) {
	for name, sidecar := range map[string]string{
		"not json":        `{"columns":`,
		"unknown field":   `{"colums":{"date":"Tag"}}`,
		"bad date format": `{"date_format":"QQ/ZZ"}`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newInboxHarness(t)
			h.put("inbox/NFLX/a.json", sidecar)
			h.put("inbox/NFLX/a.csv", inboxCSV)
			res := h.mustScan(pipeline.InboxInput{})
			if len(res.HandedOff) != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Note, "a.json") {
				t.Fatalf("result %+v: want the CSV skipped, naming its sidecar", res)
			}
			if !h.exists("inbox/NFLX/a.csv") || !h.exists("inbox/NFLX/a.json") || len(h.sig.recorded()) != 0 {
				t.Fatal("a file with a bad sidecar was moved or handed on")
			}
		})
	}
}
