package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// predict says plainly what made the forecast, and passes --version and
// --alias to the API as its query.
func TestPredictSaysWhatAnswered(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "nflx.csv")
	if err := os.WriteFile(csv, []byte("Date,Open,High,Low,Close,Adj Close,Volume\n"+
		"2024-01-02,10,11,9,10,10,100\n2024-01-03,11,12,10,11,11,100\n2024-01-04,12.5,13,12,12.5,12.5,100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var query string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		var req struct {
			Open []float64 `json:"open"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		answer := map[string]any{"ticker": "NFLX", "horizon_days": 1}
		switch {
		case r.URL.Query().Get("version") != "":
			answer["model_version"], answer["selection"], answer["prediction"] = 1, "version", 12.9
		case r.URL.Query().Get("alias") == "nope":
			w.WriteHeader(http.StatusNotFound)
			answer = map[string]any{"error": `NFLX has no alias "nope"`}
		default:
			answer["model_version"], answer["selection"], answer["prediction"] = 0, "naive", req.Open[len(req.Open)-1]
			answer["reason"] = "no version of NFLX beats the naive forecast: best is v2, test RMSE 10.91 vs naive 10.86"
		}
		_ = json.NewEncoder(w).Encode(answer)
	}))
	defer api.Close()
	getenv, _ := offlineEnv(t)
	args := []string{"predict", "--api", api.URL, "--ticker", "NFLX", "--csv", csv}

	code, out, errOut := runStarter(t, getenv, args...)
	if code != 0 || query != "" {
		t.Fatalf("exit %d, query %q, stderr %q", code, query, errOut)
	}
	for _, want := range []string{"NFLX Open 1 trading day ahead: 12.5000, the naive forecast (the last Open), not a model",
		"best is v2, test RMSE 10.91 vs naive 10.86", "--version N or --alias NAME"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runStarter(t, getenv, append(args, "--version", "1")...)
	if code != 0 || query != "version=1" || !strings.Contains(out, "12.9000, from v1, as asked") {
		t.Fatalf("--version 1: exit %d, query %q:\n%s", code, query, out)
	}
	code, out, _ = runStarter(t, getenv, append(args, "--alias", "nope")...)
	if code == 0 || query != "alias=nope" || !strings.Contains(out, "404") {
		t.Fatalf("--alias nope: exit %d, query %q:\n%s", code, query, out)
	}
	if code, _, errOut := runStarter(t, getenv, append(args, "--version", "1", "--alias", "challenger")...); code == 0 || !strings.Contains(errOut, "not both") {
		t.Fatalf("--version and --alias: exit %d, stderr %q", code, errOut)
	}
}
