package temporalconn

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// docker-compose.yml is valid for the default services and for each
// profile, as the docker-compose on PATH reads it (Debian's is v1.29.2).
func TestComposeConfigIsValid(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("docker-compose is not on PATH: cannot check docker-compose.yml")
	}
	root := repoRoot(t)
	for _, profiles := range [][]string{nil, {"prod"}, {"gpu"}, {"prod", "gpu"}} {
		name := "default"
		if profiles != nil {
			name = strings.Join(profiles, "+")
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"-f", filepath.Join(root, "docker-compose.yml")}
			for _, p := range profiles {
				args = append(args, "--profile", p)
			}
			cmd := exec.Command(bin, append(args, "config", "-q")...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("docker-compose %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, out)
			}
		})
	}
}

// repoRoot is the folder above the working directory that holds go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}
