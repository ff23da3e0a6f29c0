package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
)

// TestTrainOverHTTP trains through the API as a user with a token would:
// POST /train with real NFLX rows uploaded (multipart), against a dev
// server and a real worker. Without a token the API refuses; with one the
// pipeline starts under the request's id, the same request again answers
// that id, GET /workflows/{id} shows it running and then completed with
// its result, Temporal describes it (what the Web UI shows) and `starter
// runs` lists it.
func TestTrainOverHTTP(t *testing.T) {
	const token = "e2e-train-token-0123456789"
	starterBin := make(chan string, 1)
	go buildInBackground(t, starterBin) // meanwhile: `starter runs` at the end

	srv := devserver.Start(t)
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := startStackOn(t, srv, store)
	ui := config.Config{UIURL: "http://127.0.0.1:8233", Namespace: "default"}
	a := api.New(store, gotch.CPU)
	t.Cleanup(a.Close)
	if err := a.EnableWorkflows(api.WorkflowsConfig{Client: s.c, TaskQueue: s.queue, Namespace: "default", WebUI: ui.WorkflowURL, Tokens: []string{token}}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)

	csv := lastRows(t, sharedtest.Path(t, "single", "NFLX.csv"), 600)
	post := func(auth string) (int, map[string]any) {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("ticker", "NFLX")
		_ = mw.WriteField("epochs", "1")
		_ = mw.WriteField("units", "16")
		fw, err := mw.CreateFormFile("file", "NFLX.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(csv)
		_ = mw.Close()
		req, err := http.NewRequest(http.MethodPost, hs.URL+"/train", &body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return doJSON(t, req)
	}

	if code, ans := post(""); code != http.StatusUnauthorized {
		t.Fatalf("POST /train without a token: %d %v", code, ans)
	}
	if code, ans := post("Bearer not-the-token"); code != http.StatusForbidden {
		t.Fatalf("POST /train with a wrong token: %d %v", code, ans)
	}
	start := time.Now()
	code, first := post("Bearer " + token)
	if code != http.StatusAccepted || first["start"] != "started" {
		t.Fatalf("POST /train: %d %v", code, first)
	}
	id, _ := first["workflow_id"].(string)
	sum := blob.ContentHash(csv)
	if !strings.HasPrefix(id, "train-NFLX-"+sum[:8]+"-") || first["web_ui"] != ui.WorkflowURL(id) || first["status_url"] != "/workflows/"+id {
		t.Fatalf("answer %v", first)
	}
	code, second := post("Bearer " + token)
	if (code != http.StatusAccepted && code != http.StatusOK) || second["workflow_id"] != id || second["start"] == "started" {
		t.Fatalf("the same request again: %d %v, want workflow %s attached or completed", code, second, id)
	}

	// GET /workflows/{id}: running (with its step), then completed.
	seen := map[string]bool{}
	var final map[string]any
	for deadline := time.Now().Add(3 * time.Minute); ; {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/workflows/"+id, nil)
		code, st := doJSON(t, req)
		if code != http.StatusOK {
			t.Fatalf("GET /workflows/%s: %d %v", id, code, st)
		}
		status, _ := st["status"].(string)
		if !seen[status] || (status == "running" && st["stage"] != nil && !seen["stage "+st["stage"].(string)]) {
			t.Logf("%5.1fs %s stage=%v epoch=%v/%v", time.Since(start).Seconds(), status, st["stage"], st["epoch"], st["epochs"])
		}
		seen[status] = true
		if stage, ok := st["stage"].(string); ok && status == "running" {
			seen["stage "+stage] = true
		}
		if status != "running" {
			final = st
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still running after 3 minutes: %v", st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !seen["running"] || final["status"] != "completed" {
		t.Fatalf("statuses seen %v, final %v: want running, then completed", seen, final)
	}
	res, _ := final["result"].(map[string]any)
	if res == nil || res["workflow_id"] != id || res["model_version"] != float64(1) {
		t.Fatalf("completed without the pipeline's result: %v", final)
	}
	if code, again := post("Bearer " + token); code != http.StatusOK || again["workflow_id"] != id || again["start"] != "already_completed" {
		t.Errorf("the same request once completed: %d %v", code, again)
	}

	// What the Web UI shows: the workflow, from Temporal itself.
	d, err := s.c.DescribeWorkflowExecution(context.Background(), id, "")
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	if info := d.GetWorkflowExecutionInfo(); info.GetType().GetName() != pipeline.TrainingWorkflow || info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED ||
		info.GetTaskQueue() != s.queue {
		t.Errorf("Temporal describes %s as %s %s on %s", id, info.GetType().GetName(), info.GetStatus(), info.GetTaskQueue())
	}

	// `starter runs` lists it.
	bin := <-starterBin
	if bin == "" {
		t.Fatal("the starter did not build")
	}
	cmd := exec.Command(bin, "runs", "--ticker", "NFLX", "--json")
	cmd.Env = append(os.Environ(), "FINSIGHT_STORE="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("starter runs: %v\n%s", err, out)
	}
	var runs []struct{ ID, Status, Workflow string }
	if err := json.Unmarshal(out, &runs); err != nil {
		t.Fatalf("starter runs --json: %v\n%s", err, out)
	}
	listed := false
	for _, r := range runs {
		listed = listed || (r.ID == id && r.Workflow == pipeline.TrainingWorkflow)
	}
	if !listed {
		t.Errorf("starter runs does not list %s:\n%s", id, out)
	}
	t.Logf("trained over HTTP in %s", time.Since(start).Round(time.Second))
}

// buildInBackground builds the starter binary and sends its path ("" when
// the build failed, logged).
func buildInBackground(t *testing.T, out chan<- string) {
	bin := filepath.Join(t.TempDir(), "starter")
	b, err := exec.Command("go", "build", "-o", bin, "github.com/finsight/finsight/starter").CombinedOutput()
	if err != nil {
		t.Logf("build starter: %v\n%s", err, b)
		bin = ""
	}
	out <- bin
}

// lastRows is a CSV's header and its last n rows.
func lastRows(t *testing.T, path string, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) <= n {
		t.Fatalf("%s has %d rows, want more than %d", path, len(lines)-1, n)
	}
	return []byte(lines[0] + "\n" + strings.Join(lines[len(lines)-n:], "\n") + "\n")
}

// doJSON sends req and decodes the JSON answer.
func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s %s: %d, decode: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp.StatusCode, v
}
