package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/pipeline"
)

// trainID parses `starter train args` (uploading into a temp store, no
// Temporal) and returns the workflow id it would start.
func trainID(t *testing.T, store string, args ...string) string {
	t.Helper()
	env := map[string]string{"FINSIGHT_STORE": store}
	req, err := parseTrain(context.Background(), args, config.FromEnv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return req.id
}

func TestTrainWorkflowIDFollowsTheRequest(t *testing.T) {
	dir, store := t.TempDir(), t.TempDir()
	csv := filepath.Join(dir, "a.csv")
	other := filepath.Join(dir, "b.csv")
	renamed := filepath.Join(dir, "same-bytes.csv")
	if err := os.WriteFile(csv, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(renamed, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("Date,Open\n2022-01-03,601\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--ticker", "NFLX", "--csv", csv, "--epochs", "3"}
	id := trainID(t, store, base...)
	sum := blob.ContentHash([]byte("Date,Open\n2022-01-03,600\n"))
	if !regexp.MustCompile(`^train-NFLX-` + sum[:8] + `-[0-9a-f]{8}$`).MatchString(id) {
		t.Fatalf("id %q: want train-NFLX-%s-<params8>", id, sum[:8])
	}
	if again := trainID(t, store, base...); again != id {
		t.Errorf("same arguments twice: %q then %q", id, again)
	}
	time.Sleep(1100 * time.Millisecond) // today's ids change with the second
	if later := trainID(t, store, base...); later != id {
		t.Errorf("same arguments a second later: %q then %q", id, later)
	}
	// The same request spelled differently: flag order, the ticker's case,
	// a default given explicitly, another file name with the same bytes.
	for _, args := range [][]string{
		{"--epochs", "3", "--csv", csv, "--ticker", "nflx"},
		append(append([]string{}, base...), "--lr", "0.001", "--wait"),
		{"--ticker", "NFLX", "--csv", renamed, "--epochs", "3", "--json"},
	} {
		if got := trainID(t, store, args...); got != id {
			t.Errorf("%v: id %q, want %q", args, got, id)
		}
	}
	// Anything that changes what is trained changes the id.
	seen := map[string]string{id: "base"}
	for _, args := range [][]string{
		{"--ticker", "NFLX", "--csv", csv, "--epochs", "4"},
		{"--ticker", "NFLX", "--csv", csv, "--epochs", "3", "--lr", "0.002"},
		{"--ticker", "AAPL", "--csv", csv, "--epochs", "3"},
		{"--ticker", "NFLX", "--csv", other, "--epochs", "3"},
		{"--ticker", "NFLX", "--csv", csv, "--epochs", "3", "--seed", "2"},
		{"--ticker", "NFLX", "--csv", csv, "--epochs", "3", "--trials", "4"},
		{"--ticker", "NFLX", "--csv", csv, "--epochs", "3", "--missing", "drop"},
		{"--ticker", "NFLX", "--csv", csv, "--epochs", "3", "--force-promote"},
		{"--ticker", "NFLX", "--source", "yahoo", "--start", "2020-01-01", "--end", "2021-01-01", "--epochs", "3"},
		{"--ticker", "NFLX", "--source", "yahoo", "--start", "2020-01-01", "--end", "2021-06-01", "--epochs", "3"},
	} {
		got := trainID(t, store, args...)
		if prev, dup := seen[got]; dup {
			t.Errorf("%v: id %q, the same as %s", args, got, prev)
		}
		seen[got] = strings.Join(args, " ")
	}
	// --store-csv names the data by its content too.
	if got := trainID(t, store, "--ticker", "NFLX", "--store-csv", "uploads/"+sum+".csv", "--epochs", "3"); !strings.HasPrefix(got, "train-NFLX-"+sum[:8]+"-") {
		t.Errorf("--store-csv: id %q, want the content hash %s", got, sum[:8])
	}
	// --new-run: a fresh id each time, with the request's id as its prefix.
	fresh := trainID(t, store, append(append([]string{}, base...), "--new-run")...)
	time.Sleep(2 * time.Millisecond)
	fresher := trainID(t, store, append(append([]string{}, base...), "--new-run")...)
	if !strings.HasPrefix(fresh, id+"-") || fresh == fresher {
		t.Errorf("--new-run: %q, %q: want fresh ids under %q", fresh, fresher, id)
	}
}

func TestTrainingParamsHashIgnoresLabels(t *testing.T) {
	env := map[string]string{"FINSIGHT_STORE": t.TempDir()}
	csv := filepath.Join(t.TempDir(), "a.csv")
	if err := os.WriteFile(csv, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	req, err := parseTrain(context.Background(), []string{"--ticker", "NFLX", "--csv", csv}, config.FromEnv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatal(err)
	}
	h, err := pipeline.TrainingParamsHash(req.in)
	if err != nil {
		t.Fatal(err)
	}
	in := req.in
	in.SearchAttributes, in.Source = !in.SearchAttributes, "somewhere else"
	if h2, _ := pipeline.TrainingParamsHash(in); h2 != h {
		t.Errorf("SearchAttributes and Source changed the hash: %s → %s", h, h2)
	}
	in.Model.Dropout += 0.1
	if h3, _ := pipeline.TrainingParamsHash(in); h3 == h {
		t.Errorf("dropout did not change the hash %s", h)
	}
}

// Ids do not change with the code that derives them: these were derived
// before the derivation moved to internal/pipeline (shared with POST
// /train), so a request made before and after finds the same run.
func TestTrainWorkflowIDsAreStable(t *testing.T) {
	store := t.TempDir()
	csv := filepath.Join(t.TempDir(), "a.csv")
	if err := os.WriteFile(csv, []byte("Date,Open\n2022-01-03,600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ticker", "NFLX", "--csv", csv}, "train-NFLX-8bd49252-2a66be99"},
		{[]string{"--ticker", "NFLX", "--csv", csv, "--epochs", "1", "--units", "16", "--trials", "2", "--features", "open,close",
			"--missing", "drop", "--force-promote", "--run-device", "cuda", "--margin", "0.05", "--columns", "date=Date,open=Open",
			"--date-format", "YYYY-MM-DD", "--decimal", "."}, "train-NFLX-8bd49252-5fb10ce1"},
		{[]string{"--ticker", "NFLX", "--source", "yahoo", "--start", "2020-01-01", "--end", "2021-01-01"}, "train-NFLX-yahoo-b78a7e44"},
	} {
		if got := trainID(t, store, tc.args...); got != tc.want {
			t.Errorf("%v: id %s, want %s", tc.args, got, tc.want)
		}
	}
}

// Every flag of `starter train` that describes the request is a field of
// pipeline.TrainRequest under the flag's name with '_' for '-' (the JSON
// POST /train reads), and every field is a flag; likewise for retrain.
func TestRequestFlagsAreTheJSONFields(t *testing.T) {
	starterOnly := map[string]bool{"csv": true, "wait": true, "json": true, "timeout": true}
	for _, tc := range []struct {
		command string
		request any
	}{
		{"train", pipeline.TrainRequest{}},
		{"retrain", pipeline.RetrainRequest{}},
	} {
		flags := map[string]bool{}
		for _, line := range strings.Split(helpOf(t, tc.command), "\n") {
			if name, ok := strings.CutPrefix(strings.TrimSpace(line), "-"); ok && !strings.HasPrefix(name, "-") { // flag.PrintDefaults: "  -name type"
				name, _, _ = strings.Cut(name, " ")
				flags[name] = true
			}
		}
		var settings config.Config
		all := flag.NewFlagSet("config", flag.ContinueOnError)
		settings.Flags(all)
		fields := map[string]bool{}
		for _, f := range jsonFields(reflect.TypeOf(tc.request)) {
			fields[f] = true
			if !flags[strings.ReplaceAll(f, "_", "-")] {
				t.Errorf("%s: field %s has no flag --%s", tc.command, f, strings.ReplaceAll(f, "_", "-"))
			}
		}
		for name := range flags {
			if starterOnly[name] || all.Lookup(name) != nil {
				continue
			}
			if !fields[strings.ReplaceAll(name, "-", "_")] {
				t.Errorf("%s: flag --%s is not a field of the request", tc.command, name)
			}
		}
	}
}

// helpOf is `starter command --help`.
func helpOf(t *testing.T, command string) string {
	t.Helper()
	getenv, _ := offlineEnv(t)
	code, out, errOut := runStarter(t, getenv, command, "--help")
	if code != 0 {
		t.Fatalf("starter %s --help: exit %d\n%s", command, code, errOut)
	}
	return out
}

// jsonFields are the JSON names of a struct's fields, embedded structs'
// inline.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}
