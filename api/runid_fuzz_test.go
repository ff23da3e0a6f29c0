package api

import (
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/runs"
)

// FuzzRunID checks validRunID, the check every /runs/{id} route makes,
// and the keys the API and package runs build from an id it accepts: any
// file of the run (rel) either makes an invalid key, which the store
// refuses, or a key inside runs/<id>/: no ".." or "." segment, not
// absolute, no backslash, no NUL.
func FuzzRunID(f *testing.F) {
	for _, s := range [][2]string{
		{"nflx-20240102-1", "run.json"}, {"r1", "plots/loss.png"}, {"", "run.json"}, {".", "run.json"}, {"..", "run.json"},
		{"a/b", "run.json"}, {"a\\b", "x"}, {"a\x00", "x"}, {".blobtmp-1", "run.json"}, {".bloblock-x", "x"},
		{"r1", "../../registry/NFLX.json"}, {"r1", "notifications/../../../x"}, {"r1", "/etc/passwd"}, {"r1", ""},
		{"…", "plots/./x.png"}, {" ", "x//y"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, id, rel string) {
		if !validRunID(id) {
			return
		}
		dir := runs.Dir(id)
		if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\\x00") || dir != "runs/"+id+"/" {
			t.Fatalf("run id %q accepted", id)
		}
		for _, key := range []string{runs.Key(id, "run.json"), runs.ReportKey(id), runs.PredictionsKey(id), runs.Key(id, rel),
			runs.NotificationKey(id, rel), runs.NotificationKey(id, id+"/"+rel), runs.CheckpointDir(id, rel, "model") + "ckpt"} {
			if blob.ValidateKey(key) != nil {
				continue // refused by the store
			}
			segs := strings.Split(key, "/")
			if !strings.HasPrefix(key, dir) || segs[0] != "runs" || segs[1] != id || strings.ContainsAny(key, "\\\x00") {
				t.Fatalf("id %q: key %q is outside %s", id, key, dir)
			}
			for _, s := range segs {
				if s == ".." || s == "." || s == "" {
					t.Fatalf("id %q: key %q has a %q segment", id, key, s)
				}
			}
		}
	})
}
